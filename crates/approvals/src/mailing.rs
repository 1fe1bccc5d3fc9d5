//! The subscribers that e-mail an approved response (and mark it sent) and tell staff
//! about approval deadlines.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_customers::CustomerRepository;
use nexus_notifications::{EmailMessage, EmailRenderer, EmailTemplate, MailError, Mailer};
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use nexus_kernel::Role;

use crate::{
    ApprovalDeadlineApproaching, ApprovalDeadlinePassed, ApprovalService, ApprovalsError,
    ResponseApproved, ResponseStatus, StaffContacts,
};

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

/// E-mails staff about an approval deadline: subscriber `warn_approvers` (on
/// `approvals.deadline_approaching`, to every active user of a reviewing role except the
/// author) or `escalate_overdue_response` (on `approvals.deadline_passed`, to every active
/// ADMIN). A response decided meanwhile, or submitted again with a new deadline, is not
/// mailed about. Each recipient's message carries a Message-ID made of the delivery id and
/// the recipient, so a retried delivery repeats the same messages rather than new ones.
pub struct DeadlineMailSubscriber {
    overdue: bool,
    roles: Vec<Role>,
    approvals: Arc<ApprovalService>,
    staff: Arc<dyn StaffContacts>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

/// What a deadline subscriber needs besides its stage.
pub struct DeadlineMailPorts {
    /// Loads the response.
    pub approvals: Arc<ApprovalService>,
    /// Finds the recipients.
    pub staff: Arc<dyn StaffContacts>,
    /// Renders the message.
    pub renderer: Arc<dyn EmailRenderer>,
    /// Sends it.
    pub mailer: Arc<dyn Mailer>,
    /// The right-hand side of Message-IDs.
    pub message_domain: String,
}

impl DeadlineMailSubscriber {
    /// `warn_approvers`: tells the holders of `reviewer_roles` (the roles that may approve,
    /// from the grants) that a response is due soon.
    #[must_use]
    pub fn warning(ports: DeadlineMailPorts, reviewer_roles: Vec<Role>) -> Self {
        Self::build(ports, reviewer_roles, false)
    }

    /// `escalate_overdue_response`: tells every ADMIN that a response is overdue.
    #[must_use]
    pub fn escalation(ports: DeadlineMailPorts) -> Self {
        Self::build(ports, vec![Role::Admin], true)
    }

    fn build(ports: DeadlineMailPorts, roles: Vec<Role>, overdue: bool) -> Self {
        Self {
            overdue,
            roles,
            approvals: ports.approvals,
            staff: ports.staff,
            renderer: ports.renderer,
            mailer: ports.mailer,
            message_domain: ports.message_domain,
        }
    }
}

#[async_trait]
impl Subscriber for DeadlineMailSubscriber {
    fn name(&self) -> &'static str {
        if self.overdue {
            "escalate_overdue_response"
        } else {
            "warn_approvers"
        }
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        if self.overdue {
            vec![Subscription::to::<ApprovalDeadlinePassed>()]
        } else {
            vec![Subscription::to::<ApprovalDeadlineApproaching>()]
        }
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let (response_id, due_at) = if self.overdue {
            let e: ApprovalDeadlinePassed = delivery.event.decode()?;
            (e.response_id, e.due_at)
        } else {
            let e: ApprovalDeadlineApproaching = delivery.event.decode()?;
            (e.response_id, e.due_at)
        };
        let response = match self.approvals.for_sending(response_id).await {
            Ok(r) => r,
            Err(ApprovalsError::NotFound(_)) => {
                tracing::info!(response_id = %response_id, "response gone; no deadline mail");
                return Ok(());
            }
            Err(e) => return Err(retry(e)),
        };
        let current = response.status() == ResponseStatus::PendingApproval
            && response.deadline().is_some_and(|d| d.due_at == due_at);
        if !current {
            tracing::info!(response_id = %response_id, "response decided or resubmitted; no deadline mail");
            return Ok(());
        }
        let recipients = self
            .staff
            .active_with_roles(&self.roles)
            .await
            .map_err(retry)?;
        let due = due_at.format("%Y-%m-%d %H:%M UTC").to_string();
        let mut sent = 0;
        for contact in recipients
            .iter()
            .filter(|c| c.user_id != response.author_id())
        {
            let rendered = self
                .renderer
                .render(&EmailTemplate::ApprovalDeadline {
                    first_name: contact.first_name.clone(),
                    response_subject: response.subject().as_str().to_owned(),
                    response_id: response_id.to_string(),
                    due_at: due.clone(),
                    overdue: self.overdue,
                })
                .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
            let message = EmailMessage {
                message_id: format!(
                    "{}.{}@{}",
                    delivery.id, contact.user_id, self.message_domain
                ),
                to: contact.email.clone(),
                to_name: Some(contact.first_name.clone()),
                subject: rendered.subject,
                text_body: rendered.text_body,
                html_body: rendered.html_body,
            };
            self.mailer.send(&message).await.map_err(mail_failed)?;
            sent += 1;
        }
        if sent == 0 {
            tracing::warn!(response_id = %response_id, overdue = self.overdue, "nobody to tell about an approval deadline");
        } else {
            tracing::info!(response_id = %response_id, overdue = self.overdue, recipients = sent, "approval deadline mailed");
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "mailing_tests.rs"]
mod tests;
