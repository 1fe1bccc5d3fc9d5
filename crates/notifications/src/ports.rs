use async_trait::async_trait;

use crate::{EmailMessage, EmailTemplate, MailError, NotificationsError, RenderedEmail};

/// Delivers e-mail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message. `Ok` means the mail server accepted it.
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError>;
}

/// Turns a template and its data into subject, text and HTML (HTML values escaped).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait EmailRenderer: Send + Sync {
    /// Renders a message.
    ///
    /// # Errors
    /// `Unexpected` when a template is broken.
    fn render(&self, template: &EmailTemplate) -> Result<RenderedEmail, NotificationsError>;
}
