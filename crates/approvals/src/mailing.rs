//! The job handler that e-mails an approved response and marks it sent.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_customers::CustomerRepository;
use nexus_notifications::{
    EmailMessage, EmailRenderer, EmailTemplate, Job, JobError, JobHandler, JobKind, JobPayload,
    Mailer,
};

use crate::{ApprovalService, ApprovalsError, ResponseStatus};

/// E-mails an approved response to its customer; once the mail server accepts it, the
/// response becomes SENT and its enquiry ANSWERED. Idempotent: a response already SENT is
/// not e-mailed again, and every retry of a job carries the same Message-ID.
pub struct ResponseMailHandler {
    approvals: Arc<ApprovalService>,
    customers: Arc<dyn CustomerRepository>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl ResponseMailHandler {
    /// Builds the handler; `message_domain` is the right-hand side of Message-IDs.
    #[must_use]
    pub fn new(
        approvals: Arc<ApprovalService>,
        customers: Arc<dyn CustomerRepository>,
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
    ) -> Self {
        Self {
            approvals,
            customers,
            renderer,
            mailer,
            message_domain,
        }
    }
}

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retryable(e.to_string())
}

#[async_trait]
impl JobHandler for ResponseMailHandler {
    fn kind(&self) -> JobKind {
        JobKind::SendResponse
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::SendResponse { response_id } = payload else {
            return Err(JobError::Permanent(
                "payload is not a response e-mail".into(),
            ));
        };
        let response = match self.approvals.for_sending(*response_id).await {
            Ok(r) => r,
            Err(ApprovalsError::NotFound(_)) => {
                return Err(JobError::Permanent(format!(
                    "response {response_id} no longer exists"
                )));
            }
            Err(e) => return Err(retry(e)),
        };
        match response.status() {
            ResponseStatus::Sent => {
                tracing::info!(response_id = %response_id, "response already sent; nothing to do");
                return Ok(());
            }
            ResponseStatus::Approved => {}
            other => {
                return Err(JobError::Permanent(format!(
                    "response {response_id} is {other}, not APPROVED"
                )));
            }
        }
        let customer = self
            .customers
            .find(response.customer_id())
            .await
            .map_err(retry)?
            .ok_or_else(|| {
                JobError::Permanent(format!(
                    "customer {} no longer exists",
                    response.customer_id()
                ))
            })?;
        let customer_name = format!("{} {}", customer.first_name, customer.last_name);
        let rendered = self
            .renderer
            .render(&EmailTemplate::Response {
                customer_name: customer_name.clone(),
                subject: response.subject().as_str().to_owned(),
                content: response.content().as_str().to_owned(),
            })
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: format!("{}@{}", job.id, self.message_domain),
            to: customer.email.clone(),
            to_name: Some(customer_name),
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await?;
        self.approvals
            .mark_sent(*response_id)
            .await
            .map_err(retry)?;
        tracing::info!(response_id = %response_id, job_id = %job.id, "response e-mailed and marked sent");
        Ok(())
    }
}
