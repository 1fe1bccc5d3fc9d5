use std::error::Error as StdError;
use std::fmt;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A failure that is not a business outcome: a database that went away, a row that
/// breaks an invariant, a library that failed. It carries a context message for the
/// logs and keeps the original error as its `source()`; it is never shown to clients.
pub struct Unexpected {
    context: String,
    source: Option<BoxError>,
}

impl Unexpected {
    /// Wraps `source` with a message saying what was being done.
    pub fn new(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// An unexpected condition with no underlying error (a broken invariant).
    pub fn msg(context: impl Into<String>) -> Self {
        Self {
            context: context.into(),
            source: None,
        }
    }

    /// A closure for `map_err` that wraps any error with `context`.
    pub fn with<E>(context: &'static str) -> impl FnOnce(E) -> Self
    where
        E: Into<BoxError>,
    {
        move |e| Self::new(context, e)
    }

    /// The context message.
    #[must_use]
    pub fn context(&self) -> &str {
        &self.context
    }
}

impl fmt::Debug for Unexpected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unexpected")
            .field("context", &self.context)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Unexpected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl StdError for Unexpected {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_source_chain() {
        let io = std::io::Error::other("disk on fire");
        let err = Unexpected::new("saving customer", io);
        assert_eq!(err.to_string(), "saving customer");
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("disk on fire")
        );
    }
}
