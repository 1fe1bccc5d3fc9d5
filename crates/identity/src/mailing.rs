//! Subscribers that e-mail identity messages: the welcome note, the note that an address is
//! already registered, and one-time codes.
//!
//! Each mail carries the delivery id as its Message-ID: every attempt of a delivery sends
//! the same message, which is how a mail's effect happens once even when it is delivered
//! twice (receivers and relays drop a Message-ID they already have).

use std::sync::Arc;

use async_trait::async_trait;
use nexus_notifications::{EmailMessage, EmailRenderer, EmailTemplate, MailError, Mailer};
use nexus_outbox::{Delivery, DeliveryError, DeliveryId, Subscriber, Subscription};

use crate::{
    AccountLinkIssued, CodeIssued, EmailChangeRequested, IdentityLinked, IdentityProvider,
    RegistrationRepeated, UserRegistered, UserRepository,
};

/// The `Message-ID` for the message a delivery sends: stable across its attempts.
#[must_use]
pub fn message_id(delivery: DeliveryId, domain: &str) -> String {
    format!("{delivery}@{domain}")
}

/// A mail server's refusal as a delivery failure: a temporary one is worth another attempt.
fn mail_failed(err: MailError) -> DeliveryError {
    match err {
        MailError::Transient(_) => DeliveryError::Retryable(err.to_string()),
        MailError::Permanent(_) => DeliveryError::Permanent(err.to_string()),
    }
}

/// What the e-mails to an account holder share: load the user, render, send with the
/// delivery's stable Message-ID.
struct UserMail {
    users: Arc<dyn UserRepository>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl UserMail {
    async fn send(
        &self,
        delivery: &Delivery,
        user_id: nexus_kernel::UserId,
        template: impl FnOnce(&crate::User) -> EmailTemplate,
        what: &str,
    ) -> Result<(), DeliveryError> {
        let user = self
            .users
            .find(user_id)
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))?
            .ok_or_else(|| DeliveryError::Permanent(format!("user {user_id} no longer exists")))?;
        let rendered = self
            .renderer
            .render(&template(&user))
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: message_id(delivery.id, &self.message_domain),
            to: user.email.clone(),
            to_name: Some(format!("{} {}", user.first_name, user.last_name)),
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await.map_err(mail_failed)?;
        tracing::info!(user_id = %user.id, delivery_id = %delivery.id, "{what} e-mail sent");
        Ok(())
    }
}

/// Sends the welcome e-mail after registration (subscriber `send_welcome`, on
/// `identity.user_registered`).
pub struct WelcomeMailSubscriber(UserMail);

impl WelcomeMailSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs.
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
    ) -> Self {
        Self(UserMail {
            users,
            renderer,
            mailer,
            message_domain,
        })
    }
}

#[async_trait]
impl Subscriber for WelcomeMailSubscriber {
    fn name(&self) -> &'static str {
        "send_welcome"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<UserRegistered>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let UserRegistered { user_id } = delivery.event.decode()?;
        let template = |user: &crate::User| EmailTemplate::Welcome {
            first_name: user.first_name.as_str().to_owned(),
        };
        self.0.send(delivery, user_id, template, "welcome").await
    }
}

/// Tells the owner of an address that someone tried to register it again (subscriber
/// `send_account_exists`, on `identity.registration_repeated`).
pub struct AccountExistsMailSubscriber(UserMail);

impl AccountExistsMailSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs.
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
    ) -> Self {
        Self(UserMail {
            users,
            renderer,
            mailer,
            message_domain,
        })
    }
}

#[async_trait]
impl Subscriber for AccountExistsMailSubscriber {
    fn name(&self) -> &'static str {
        "send_account_exists"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<RegistrationRepeated>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let RegistrationRepeated { user_id } = delivery.event.decode()?;
        let template = |user: &crate::User| EmailTemplate::AccountExists {
            first_name: user.first_name.as_str().to_owned(),
        };
        self.0
            .send(delivery, user_id, template, "account-exists")
            .await
    }
}

/// Sends one-time codes (subscriber `send_otp`, on `identity.code_issued`).
pub struct OtpMailSubscriber {
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl OtpMailSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs.
    #[must_use]
    pub fn new(
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
    ) -> Self {
        Self {
            renderer,
            mailer,
            message_domain,
        }
    }
}

#[async_trait]
impl Subscriber for OtpMailSubscriber {
    fn name(&self) -> &'static str {
        "send_otp"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<CodeIssued>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let CodeIssued {
            email,
            code,
            purpose,
            expires_in_minutes,
            ..
        } = delivery.event.decode()?;
        let rendered = self
            .renderer
            .render(&EmailTemplate::OneTimeCode {
                code,
                purpose,
                expires_in_minutes,
            })
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: message_id(delivery.id, &self.message_domain),
            to: email,
            to_name: None,
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await.map_err(mail_failed)?;
        tracing::info!(delivery_id = %delivery.id, "one-time code e-mailed");
        Ok(())
    }
}

/// Sends single-use account links, such as password resets (subscriber
/// `send_account_link`, on `identity.account_link_issued`).
pub struct AccountLinkMailSubscriber {
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl AccountLinkMailSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs.
    #[must_use]
    pub fn new(
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
    ) -> Self {
        Self {
            renderer,
            mailer,
            message_domain,
        }
    }
}

#[async_trait]
impl Subscriber for AccountLinkMailSubscriber {
    fn name(&self) -> &'static str {
        "send_account_link"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<AccountLinkIssued>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let AccountLinkIssued {
            email,
            first_name,
            token,
            purpose,
            expires_in_minutes,
            ..
        } = delivery.event.decode()?;
        let rendered = self
            .renderer
            .render(&EmailTemplate::AccountLink {
                first_name,
                purpose,
                token,
                expires_in_minutes,
            })
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: message_id(delivery.id, &self.message_domain),
            to: email,
            to_name: None,
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await.map_err(mail_failed)?;
        tracing::info!(delivery_id = %delivery.id, "account link e-mailed");
        Ok(())
    }
}

/// Tells the old address that a move of the sign-in address was asked for (subscriber
/// `send_email_change_notice`, on `identity.email_change_requested`). The notice goes to
/// the address of the event, not the account's current one, which may already be the new.
pub struct EmailChangeNoticeSubscriber {
    users: Arc<dyn UserRepository>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl EmailChangeNoticeSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs.
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
    ) -> Self {
        Self {
            users,
            renderer,
            mailer,
            message_domain,
        }
    }
}

#[async_trait]
impl Subscriber for EmailChangeNoticeSubscriber {
    fn name(&self) -> &'static str {
        "send_email_change_notice"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<EmailChangeRequested>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let EmailChangeRequested {
            user_id,
            old_email,
            new_email,
        } = delivery.event.decode()?;
        let user = self
            .users
            .find(user_id)
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))?
            .ok_or_else(|| DeliveryError::Permanent(format!("user {user_id} no longer exists")))?;
        let rendered = self
            .renderer
            .render(&EmailTemplate::EmailChangeNotice {
                first_name: user.first_name.as_str().to_owned(),
                new_email: new_email.as_str().to_owned(),
            })
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: message_id(delivery.id, &self.message_domain),
            to: old_email,
            to_name: None,
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await.map_err(mail_failed)?;
        tracing::info!(user_id = %user_id, delivery_id = %delivery.id, "e-mail change notice sent");
        Ok(())
    }
}

/// Tells an account's owner, at the account's current address, that a Google or GitHub
/// account was linked to it (subscriber `send_identity_linked_notice`, on
/// `identity.identity_linked`).
pub struct IdentityLinkedNoticeSubscriber {
    users: Arc<dyn UserRepository>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl IdentityLinkedNoticeSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs.
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
    ) -> Self {
        Self {
            users,
            renderer,
            mailer,
            message_domain,
        }
    }
}

#[async_trait]
impl Subscriber for IdentityLinkedNoticeSubscriber {
    fn name(&self) -> &'static str {
        "send_identity_linked_notice"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<IdentityLinked>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let IdentityLinked {
            user_id,
            provider,
            provider_email,
        } = delivery.event.decode()?;
        let provider = provider
            .parse::<IdentityProvider>()
            .map_err(|_| DeliveryError::Permanent(format!("unknown provider {provider}")))?;
        let user = self
            .users
            .find(user_id)
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))?
            .ok_or_else(|| DeliveryError::Permanent(format!("user {user_id} no longer exists")))?;
        if !user.is_active {
            // Erased or deactivated meanwhile: nobody to tell.
            tracing::info!(user_id = %user_id, "link notice skipped: the account is inactive");
            return Ok(());
        }
        let rendered = self
            .renderer
            .render(&EmailTemplate::IdentityLinked {
                first_name: user.first_name.as_str().to_owned(),
                provider: provider.display_name().to_owned(),
                provider_email,
            })
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: message_id(delivery.id, &self.message_domain),
            to: user.email,
            to_name: None,
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await.map_err(mail_failed)?;
        tracing::info!(user_id = %user_id, delivery_id = %delivery.id, "identity link notice sent");
        Ok(())
    }
}

#[cfg(test)]
#[path = "mailing_tests.rs"]
mod tests;
