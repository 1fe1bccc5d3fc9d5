//! The subscriber that e-mails an approved response and marks it sent.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_customers::CustomerRepository;
use nexus_notifications::{EmailMessage, EmailRenderer, EmailTemplate, MailError, Mailer};
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::{ApprovalService, ApprovalsError, ResponseApproved, ResponseStatus};

/// E-mails an approved response to its customer (subscriber `send_response`, on
/// `approvals.response_approved`); once the mail server accepts it, the response becomes
/// SENT and its enquiry ANSWERED. Idempotent: a response already SENT is not e-mailed
/// again, and every attempt of a delivery carries the same Message-ID (the delivery id).
pub struct ResponseMailSubscriber {
    approvals: Arc<ApprovalService>,
    customers: Arc<dyn CustomerRepository>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl ResponseMailSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs.
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

fn retry(e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Retryable(e.to_string())
}

/// A mail server's refusal as a delivery failure: a temporary one is worth another attempt.
pub(crate) fn mail_failed(err: MailError) -> DeliveryError {
    match err {
        MailError::Transient(_) => DeliveryError::Retryable(err.to_string()),
        MailError::Permanent(_) => DeliveryError::Permanent(err.to_string()),
    }
}

#[async_trait]
impl Subscriber for ResponseMailSubscriber {
    fn name(&self) -> &'static str {
        "send_response"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<ResponseApproved>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let ResponseApproved { response_id } = delivery.event.decode()?;
        let response = match self.approvals.for_sending(response_id).await {
            Ok(r) => r,
            Err(ApprovalsError::NotFound(_)) => {
                return Err(DeliveryError::Permanent(format!(
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
                return Err(DeliveryError::Permanent(format!(
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
                DeliveryError::Permanent(format!(
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
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: format!("{}@{}", delivery.id, self.message_domain),
            to: customer.email.clone(),
            to_name: Some(customer_name),
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await.map_err(mail_failed)?;
        self.approvals.mark_sent(response_id).await.map_err(retry)?;
        tracing::info!(response_id = %response_id, delivery_id = %delivery.id, "response e-mailed and marked sent");
        Ok(())
    }
}

#[cfg(test)]
#[path = "mailing_tests.rs"]
mod tests;
