//! Job handlers of paid orders: the invoice PDF and the confirmation e-mail.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_kernel::{Email, Money};
use nexus_notifications::{
    EmailMessage, EmailRenderer, EmailTemplate, Job, JobError, JobHandler, JobKind, JobPayload,
    Mailer,
};

use crate::{BuyerDirectory, InvoiceService, OrderId, OrderRepository, OrdersError};

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retryable(e.to_string())
}

/// Formats an amount for people: currency code and major units with two decimals
/// (`INR 1499.00`). Every currency the gateway settles in here has two decimals.
#[must_use]
pub fn format_money(amount: Money) -> String {
    let minor = amount.amount_minor();
    format!(
        "{} {}.{:02}",
        amount.currency().as_str(),
        minor / 100,
        minor % 100
    )
}

/// Runs `GenerateInvoice` jobs through [`InvoiceService::generate`] (idempotent: an invoice
/// already stored is not made again).
pub struct InvoiceJobHandler {
    invoices: Arc<InvoiceService>,
}

impl InvoiceJobHandler {
    /// Builds the handler.
    #[must_use]
    pub fn new(invoices: Arc<InvoiceService>) -> Self {
        Self { invoices }
    }
}

#[async_trait]
impl JobHandler for InvoiceJobHandler {
    fn kind(&self) -> JobKind {
        JobKind::GenerateInvoice
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::GenerateInvoice { order_id } = payload else {
            return Err(JobError::Permanent("payload is not an invoice".into()));
        };
        let order_id = OrderId::from_uuid(*order_id);
        match self.invoices.generate(order_id).await {
            Ok(key) => {
                tracing::info!(%order_id, job_id = %job.id, key = %key, "invoice generated");
                Ok(())
            }
            Err(e @ (OrdersError::NotFound | OrdersError::InvalidTransition { .. })) => Err(
                JobError::Permanent(format!("no invoice for order {order_id}: {e}")),
            ),
            Err(e) => Err(retry(e)),
        }
    }
}

/// Runs `GenerateCreditNote` jobs through [`InvoiceService::generate_credit_note`]
/// (idempotent: a credit note already stored is not made again).
pub struct CreditNoteJobHandler {
    invoices: Arc<InvoiceService>,
}

impl CreditNoteJobHandler {
    /// Builds the handler.
    #[must_use]
    pub fn new(invoices: Arc<InvoiceService>) -> Self {
        Self { invoices }
    }
}

#[async_trait]
impl JobHandler for CreditNoteJobHandler {
    fn kind(&self) -> JobKind {
        JobKind::GenerateCreditNote
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::GenerateCreditNote {
            order_id,
            refund_id,
        } = payload
        else {
            return Err(JobError::Permanent("payload is not a credit note".into()));
        };
        let order_id = OrderId::from_uuid(*order_id);
        match self
            .invoices
            .generate_credit_note(order_id, refund_id)
            .await
        {
            Ok(key) => {
                tracing::info!(%order_id, job_id = %job.id, key = %key, "credit note generated");
                Ok(())
            }
            Err(e @ OrdersError::NotFound) => Err(JobError::Permanent(format!(
                "no credit note for refund {refund_id} of order {order_id}: {e}"
            ))),
            Err(e) => Err(retry(e)),
        }
    }
}

/// E-mails the buyer of a paid order its lines, total and a link to the invoice
/// (`{base_url}/api/v1/orders/{id}/invoice`, which answers once the invoice is stored).
/// Every retry of a job carries the same Message-ID.
pub struct OrderConfirmationMailHandler {
    orders: Arc<dyn OrderRepository>,
    buyers: Arc<dyn BuyerDirectory>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
    base_url: String,
}

impl OrderConfirmationMailHandler {
    /// Builds the handler; `message_domain` is the right-hand side of Message-IDs and
    /// `base_url` the public address of the API (`https://shop.example.com`).
    #[must_use]
    pub fn new(
        orders: Arc<dyn OrderRepository>,
        buyers: Arc<dyn BuyerDirectory>,
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
        base_url: String,
    ) -> Self {
        Self {
            orders,
            buyers,
            renderer,
            mailer,
            message_domain,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }
}

#[async_trait]
impl JobHandler for OrderConfirmationMailHandler {
    fn kind(&self) -> JobKind {
        JobKind::SendOrderConfirmation
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::SendOrderConfirmation { order_id } = payload else {
            return Err(JobError::Permanent(
                "payload is not an order confirmation".into(),
            ));
        };
        let order_id = OrderId::from_uuid(*order_id);
        let order = self
            .orders
            .find(order_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent(format!("order {order_id} no longer exists")))?;
        if !order.status().was_paid() {
            return Err(JobError::Permanent(format!(
                "order {order_id} is {}, not paid",
                order.status()
            )));
        }
        let buyer = self
            .buyers
            .buyer(order.user_id())
            .await
            .map_err(retry)?
            .ok_or_else(|| {
                JobError::Permanent(format!("the buyer of order {order_id} no longer exists"))
            })?;
        let to = Email::parse(&buyer.email).map_err(|e| {
            JobError::Permanent(format!(
                "the buyer of order {order_id} has no usable e-mail: {e}"
            ))
        })?;
        let rendered = self
            .renderer
            .render(&EmailTemplate::OrderConfirmation {
                customer_name: buyer.name.clone(),
                order_reference: order_id.to_string(),
                lines: order
                    .lines()
                    .iter()
                    .map(|l| (l.title.clone(), format_money(l.unit_price)))
                    .collect(),
                total: format_money(order.total()),
                invoice_url: Some(format!(
                    "{}/api/v1/orders/{order_id}/invoice",
                    self.base_url
                )),
            })
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: format!("{}@{}", job.id, self.message_domain),
            to,
            to_name: Some(buyer.name),
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await?;
        tracing::info!(%order_id, job_id = %job.id, "order confirmation e-mailed");
        Ok(())
    }
}

#[cfg(test)]
#[path = "mailing_tests.rs"]
mod tests;
