//! Job handlers that e-mail identity messages: the welcome note, the note that an address is
//! already registered, and one-time codes.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_notifications::{
    EmailMessage, EmailRenderer, EmailTemplate, Job, JobError, JobHandler, JobKind, JobPayload,
    Mailer,
};

use crate::UserRepository;

/// The `Message-ID` for the message a job sends: stable across retries of that job.
#[must_use]
pub fn message_id(job: &Job, domain: &str) -> String {
    format!("{}@{domain}", job.id)
}

/// What the e-mails to an account holder share: load the user, render, send with the job's
/// stable Message-ID.
struct UserMail {
    users: Arc<dyn UserRepository>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl UserMail {
    async fn send(
        &self,
        job: &Job,
        user_id: nexus_kernel::UserId,
        template: impl FnOnce(&crate::User) -> EmailTemplate,
        what: &str,
    ) -> Result<(), JobError> {
        let user = self
            .users
            .find(user_id)
            .await
            .map_err(|e| JobError::Retryable(e.to_string()))?
            .ok_or_else(|| JobError::Permanent(format!("user {user_id} no longer exists")))?;
        let rendered = self
            .renderer
            .render(&template(&user))
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: message_id(job, &self.message_domain),
            to: user.email.clone(),
            to_name: Some(format!("{} {}", user.first_name, user.last_name)),
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await?;
        tracing::info!(user_id = %user.id, job_id = %job.id, "{what} e-mail sent");
        Ok(())
    }
}

/// Sends the welcome e-mail after registration.
pub struct WelcomeMailHandler(UserMail);

impl WelcomeMailHandler {
    /// Builds the handler; `message_domain` is the right-hand side of Message-IDs.
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
impl JobHandler for WelcomeMailHandler {
    fn kind(&self) -> JobKind {
        JobKind::SendWelcome
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::SendWelcome { user_id } = payload else {
            return Err(JobError::Permanent(
                "payload is not a welcome e-mail".into(),
            ));
        };
        let template = |user: &crate::User| EmailTemplate::Welcome {
            first_name: user.first_name.as_str().to_owned(),
        };
        self.0.send(job, *user_id, template, "welcome").await
    }
}

/// Tells the owner of an address that someone tried to register it again.
pub struct AccountExistsMailHandler(UserMail);

impl AccountExistsMailHandler {
    /// Builds the handler; `message_domain` is the right-hand side of Message-IDs.
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
impl JobHandler for AccountExistsMailHandler {
    fn kind(&self) -> JobKind {
        JobKind::SendAccountExists
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::SendAccountExists { user_id } = payload else {
            return Err(JobError::Permanent(
                "payload is not an account-exists e-mail".into(),
            ));
        };
        let template = |user: &crate::User| EmailTemplate::AccountExists {
            first_name: user.first_name.as_str().to_owned(),
        };
        self.0.send(job, *user_id, template, "account-exists").await
    }
}

/// Sends one-time codes.
pub struct OtpMailHandler {
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl OtpMailHandler {
    /// Builds the handler.
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
impl JobHandler for OtpMailHandler {
    fn kind(&self) -> JobKind {
        JobKind::SendOtp
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::SendOtp {
            email,
            code,
            purpose,
            expires_in_minutes,
            ..
        } = payload
        else {
            return Err(JobError::Permanent("payload is not a one-time code".into()));
        };
        let rendered = self
            .renderer
            .render(&EmailTemplate::OneTimeCode {
                code: code.clone(),
                purpose: purpose.clone(),
                expires_in_minutes: *expires_in_minutes,
            })
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: message_id(job, &self.message_domain),
            to: email.clone(),
            to_name: None,
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await?;
        tracing::info!(job_id = %job.id, "one-time code e-mailed");
        Ok(())
    }
}
