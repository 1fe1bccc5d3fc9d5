use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use nexus_notifications::{EmailMessage, MailError, Mailer};

use crate::{InvalidMailConfig, Sender, message};

/// Sends mail through an SMTP server, one connection per message.
///
/// The server is given as a URL (lettre's connection URL):
///
/// | URL | meaning |
/// |---|---|
/// | `smtp://localhost:1025` | no TLS, no login: local and test servers only |
/// | `smtp://user:pass@host:587?tls=required` | STARTTLS, then login |
/// | `smtps://user:pass@host:465` | TLS from the first byte, then login |
///
/// Amazon SES works with either of the last two forms
/// (`smtps://SMTP_USER:SMTP_PASSWORD@email-smtp.eu-west-1.amazonaws.com:465`). A user name or
/// password with reserved characters (`@`, `:`, `/`, `+`) must be percent-encoded.
///
/// There is no connection pool: lettre bounds only the connect with its timeout, so every
/// send runs under a deadline of its own, and a send cut off mid-conversation must not
/// leave its connection in a pool for the next message. Transactional mail volume does
/// not need the pool's throughput.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Sender,
    endpoint: String,
    timeout: Duration,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // lettre's own Debug shows the credentials: print only what is safe.
        f.debug_struct("SmtpMailer")
            .field("endpoint", &self.endpoint)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for the server at `url` (see the type's docs), sending as `from`; one send
    /// (connecting, TLS, login and the whole SMTP conversation) gives up after `timeout`.
    /// Nothing is connected yet.
    ///
    /// # Errors
    /// `InvalidMailConfig::Url` when the URL cannot be used.
    pub fn from_url(url: &str, from: Sender, timeout: Duration) -> Result<Self, InvalidMailConfig> {
        let endpoint = redacted(url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            .map_err(|err| InvalidMailConfig::Url(format!("{err}")))?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport,
            from,
            endpoint,
            timeout,
        })
    }

    /// The server as `scheme://host:port`, without credentials (for logs).
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        let email = message::build(&self.from, message)?;
        let sent = tokio::time::timeout(self.timeout, self.transport.send(email)).await;
        let Ok(sent) = sent else {
            tracing::warn!(message_id = %message.message_id, endpoint = %self.endpoint, "SMTP send timed out");
            return Err(MailError::Transient(format!(
                "the SMTP server did not finish within {} ms",
                self.timeout.as_millis()
            )));
        };
        match sent {
            Ok(_) => {
                tracing::debug!(message_id = %message.message_id, endpoint = %self.endpoint, "mail accepted by the SMTP server");
                Ok(())
            }
            Err(err) => {
                let err = classify(&err);
                tracing::warn!(message_id = %message.message_id, endpoint = %self.endpoint, error = %err, "SMTP send failed");
                Err(err)
            }
        }
    }
}

/// 5xx replies are permanent; 4xx replies, refused connections, timeouts, TLS and protocol
/// trouble are worth retrying (a misconfigured server is fixed and the job retried).
fn classify(err: &SmtpError) -> MailError {
    if err.is_permanent() {
        MailError::Permanent(format!("the SMTP server refused the message: {err}"))
    } else if err.is_timeout() {
        MailError::Transient(format!("the SMTP server did not answer in time: {err}"))
    } else {
        MailError::Transient(format!(
            "the SMTP server could not take the message now: {err}"
        ))
    }
}

/// `scheme://host[:port]` of `url`, dropping any user, password, path and query.
fn redacted(url: &str) -> Result<String, InvalidMailConfig> {
    let (scheme, rest) = url
        .trim()
        .split_once("://")
        .ok_or_else(|| InvalidMailConfig::Url("expected smtp://… or smtps://…".to_owned()))?;
    if !matches!(scheme, "smtp" | "smtps") {
        return Err(InvalidMailConfig::Url(format!(
            "unknown scheme {scheme:?}; expected smtp or smtps"
        )));
    }
    // A host never contains `@`: cutting at the last one drops the credentials even when a
    // password holds an unencoded `/` or `?`.
    let after_credentials = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = after_credentials
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if host.is_empty() {
        return Err(InvalidMailConfig::Url("no host".to_owned()));
    }
    Ok(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_keeps_scheme_host_and_port_only() {
        let cases = [
            ("smtp://localhost:1025", "smtp://localhost:1025"),
            (
                "smtp://user:p%40ss@mail.example.com:587?tls=required",
                "smtp://mail.example.com:587",
            ),
            (
                "smtps://AKIA:se/cret@email-smtp.eu-west-1.amazonaws.com:465",
                "smtps://email-smtp.eu-west-1.amazonaws.com:465",
            ),
            ("smtp://us@er:pa@ss@host/ehlo.example.com", "smtp://host"),
        ];
        for (url, endpoint) in cases {
            assert_eq!(redacted(url).expect("valid"), endpoint, "{url}");
        }
    }

    #[test]
    fn urls_without_an_smtp_scheme_or_host_are_refused() {
        for url in [
            "",
            "localhost:25",
            "http://localhost",
            "smtp://",
            "smtp://user:pass@/",
        ] {
            assert!(
                matches!(redacted(url), Err(InvalidMailConfig::Url(_))),
                "{url}"
            );
        }
    }
}
