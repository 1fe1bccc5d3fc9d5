use std::fmt;

use lettre::message::Mailbox;
use nexus_kernel::Email;

use crate::InvalidMailConfig;

/// Who a message is from: an address and an optional display name
/// (`"Customer Nexus Hub" <no-reply@nexus.example.com>`).
#[derive(Clone, PartialEq, Eq)]
pub struct Sender(Mailbox);

impl Sender {
    /// A sender with `address` and, when given, a display name.
    ///
    /// # Errors
    /// `InvalidMailConfig::Sender` when the mail library does not accept the address.
    pub fn new(name: Option<&str>, address: &Email) -> Result<Self, InvalidMailConfig> {
        let address = address
            .as_str()
            .parse()
            .map_err(|err| InvalidMailConfig::Sender(format!("{err}")))?;
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        Ok(Self(Mailbox::new(name, address)))
    }

    /// Parses `Name <address>` or a bare address, as found in a setting such as `SMTP_FROM`.
    ///
    /// # Errors
    /// `InvalidMailConfig::Sender` when `raw` is not a mailbox.
    pub fn parse(raw: &str) -> Result<Self, InvalidMailConfig> {
        raw.trim()
            .parse::<Mailbox>()
            .map(Self)
            .map_err(|err| InvalidMailConfig::Sender(format!("{err}")))
    }

    /// The address.
    #[must_use]
    pub fn address(&self) -> String {
        self.0.email.to_string()
    }

    /// The display name, if any.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    pub(crate) const fn mailbox(&self) -> &Mailbox {
        &self.0
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sender").field(&self.0.to_string()).finish()
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> Email {
        Email::parse(raw).expect("valid e-mail")
    }

    #[test]
    fn a_sender_has_an_address_and_an_optional_name() {
        let named =
            Sender::new(Some("Nexus Hub"), &email("no-reply@nexus.test")).expect("valid sender");
        let bare = Sender::new(Some("  "), &email("no-reply@nexus.test")).expect("valid sender");

        assert_eq!(named.name(), Some("Nexus Hub"));
        assert_eq!(named.address(), "no-reply@nexus.test");
        assert_eq!(bare.name(), None);
    }

    #[test]
    fn a_sender_parses_from_a_setting() {
        let sender = Sender::parse(" Nexus Hub <no-reply@nexus.test> ").expect("valid sender");

        assert_eq!(sender.name(), Some("Nexus Hub"));
        assert_eq!(sender.address(), "no-reply@nexus.test");
        assert_eq!(
            Sender::parse("no-reply@nexus.test")
                .expect("bare address")
                .name(),
            None
        );
    }

    #[test]
    fn text_that_is_not_a_mailbox_is_refused() {
        for raw in ["", "nexus", "Nexus <>", "a@b@c"] {
            assert!(
                matches!(Sender::parse(raw), Err(InvalidMailConfig::Sender(_))),
                "{raw:?}"
            );
        }
    }
}
