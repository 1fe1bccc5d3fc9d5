/// Mail settings that cannot work. Messages never repeat the SMTP URL, which may hold a
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMailConfig {
    /// The SMTP URL could not be used (unknown scheme, no host, bad `tls` parameter).
    #[error("the SMTP URL is not valid: {0}")]
    Url(String),
    /// The sender is not a valid mailbox.
    #[error("the sender is not a valid mailbox: {0}")]
    Sender(String),
}
