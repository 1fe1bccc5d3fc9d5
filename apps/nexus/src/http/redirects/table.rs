//! The rules the fallback answers with, held in memory by each instance.
//!
//! A lookup costs no database query: the table is loaded once and reloaded only when the
//! shared cache generation of [`REDIRECTS_CACHE_NAMESPACE`] moved on (the
//! `invalidate_redirects` delivery of every redirect write moves it), read at most once per
//! [`GENERATION_MEMO`] when the generation lives in Redis. So an edit made on one instance
//! is honoured by every other within one generation round-trip after its delivery. A write
//! on this instance also marks the table stale at once.
//!
//! When nothing can move the generation of this process (no Redis and no worker in it), the
//! table is reloaded once it is `max_age` old instead. When Redis cannot say the generation,
//! the rules already loaded keep answering, and Redis is asked again after
//! [`SHARED_RETRY_EVERY`]. A failed reload keeps the old rules too; nothing here is a 5xx.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexus_kernel::SharedCache;
use nexus_seo::{REDIRECTS_CACHE_NAMESPACE, Redirect, RedirectService};

use crate::cache::{GENERATION_MEMO, SHARED_RETRY_EVERY};

/// How old the table may grow when nothing can move its generation (no Redis and no worker
/// in this process).
pub const UNINVALIDATED_MAX_AGE: Duration = Duration::from_secs(30);

/// What the table holds.
#[derive(Clone, Default)]
struct Snapshot {
    rules: Arc<HashMap<String, Redirect>>,
    /// The generation the rules were loaded at; `None`: never loaded, or marked stale.
    generation: Option<u64>,
    /// When the rules were loaded.
    loaded_at: Option<Instant>,
    /// When the generation was last read (or last failed to be).
    checked_at: Option<Instant>,
}

/// The rules in force, by source path, kept current from the shared cache's generation.
pub struct RedirectTable {
    service: Arc<RedirectService>,
    shared: Arc<dyn SharedCache>,
    remote: bool,
    max_age: Option<Duration>,
    snapshot: Mutex<Snapshot>,
    reload: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for RedirectTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedirectTable")
            .field("remote", &self.remote)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// `path` as rules compare it: no trailing slash but on the root.
#[must_use]
pub fn normalized(path: &str) -> &str {
    if path.len() > 1 {
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() { "/" } else { trimmed }
    } else {
        path
    }
}

impl RedirectTable {
    /// A table loaded through `service`, following the generation `shared` keeps (`remote`
    /// when it is Redis); `max_age`, when set, reloads it on age alone.
    #[must_use]
    pub fn new(
        service: Arc<RedirectService>,
        shared: Arc<dyn SharedCache>,
        remote: bool,
        max_age: Option<Duration>,
    ) -> Self {
        Self {
            service,
            shared,
            remote,
            max_age,
            snapshot: Mutex::new(Snapshot::default()),
            reload: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Snapshot {
        self.snapshot.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut Snapshot)) {
        if let Ok(mut s) = self.snapshot.lock() {
            f(&mut s);
        }
    }

    /// Makes the next lookup reload the rules (after a write on this instance).
    pub fn mark_stale(&self) {
        self.update(|s| s.generation = None);
    }

    /// The rule whose source is `path` (trailing slash ignored), if any.
    pub async fn lookup(&self, path: &str) -> Option<Redirect> {
        let rules = self.rules().await;
        rules.get(normalized(path)).cloned()
    }

    async fn rules(&self) -> Arc<HashMap<String, Redirect>> {
        let now = Instant::now();
        let snap = self.current();
        let fresh_enough = |s: &Snapshot| match (self.max_age, s.loaded_at) {
            (Some(max), Some(at)) => now.duration_since(at) < max,
            _ => true,
        };
        if snap.generation.is_some()
            && self.remote
            && snap
                .checked_at
                .is_some_and(|at| now.duration_since(at) < GENERATION_MEMO)
            && fresh_enough(&snap)
        {
            return snap.rules;
        }
        let generation = match self.shared.generation(REDIRECTS_CACHE_NAMESPACE).await {
            Ok(g) => g,
            Err(err) => {
                if snap.loaded_at.is_some()
                    && snap
                        .checked_at
                        .is_some_and(|at| now.duration_since(at) < SHARED_RETRY_EVERY)
                {
                    return snap.rules;
                }
                tracing::warn!(error = %err, "redirect generation unavailable; using the rules held");
                if snap.loaded_at.is_some() {
                    self.update(|s| s.checked_at = Some(now));
                    return snap.rules;
                }
                // Never loaded: load once without a generation.
                return self.load(None).await;
            }
        };
        if snap.generation == Some(generation) && fresh_enough(&snap) {
            self.update(|s| s.checked_at = Some(now));
            return snap.rules;
        }
        self.load(Some(generation)).await
    }

    /// Loads the rules at `generation`, one load at a time (a caller that waited reuses
    /// what the one before it loaded).
    async fn load(&self, generation: Option<u64>) -> Arc<HashMap<String, Redirect>> {
        let _turn = self.reload.lock().await;
        let snap = self.current();
        if generation.is_some()
            && snap.generation == generation
            && snap
                .loaded_at
                .is_some_and(|at| self.max_age.is_none_or(|max| at.elapsed() < max))
        {
            return snap.rules;
        }
        match self.service.in_force().await {
            Ok(found) => {
                let rules: Arc<HashMap<String, Redirect>> = Arc::new(
                    found
                        .into_iter()
                        .map(|r| (r.from().to_owned(), r))
                        .collect(),
                );
                let now = Instant::now();
                self.update(|s| {
                    *s = Snapshot {
                        rules: rules.clone(),
                        generation,
                        loaded_at: Some(now),
                        checked_at: Some(now),
                    };
                });
                rules
            }
            Err(err) => {
                tracing::warn!(error = %err, "redirect rules could not be loaded; using the rules held");
                self.update(|s| s.checked_at = Some(Instant::now()));
                snap.rules
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalized;

    #[test]
    fn trailing_slashes_are_ignored_but_on_the_root() {
        assert_eq!(normalized("/a/"), "/a");
        assert_eq!(normalized("/a//"), "/a");
        assert_eq!(normalized("/"), "/");
        assert_eq!(normalized("//"), "/");
        assert_eq!(normalized("/a"), "/a");
    }
}
