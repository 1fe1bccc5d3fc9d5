//! Subscribers of paid and refunded orders: the invoice PDF, the credit note and the
//! confirmation e-mail.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_kernel::{Email, Money};
use nexus_notifications::{EmailMessage, EmailRenderer, EmailTemplate, MailError, Mailer};
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::events::{OrderPaid, OrderRefunded};
use crate::{BuyerDirectory, InvoiceService, OrderRepository, OrdersError};

pub(crate) fn retry(e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Retryable(e.to_string())
}

/// A mail the server refused for good will not pass by retrying; anything else may.
pub(crate) fn mail_error(err: MailError) -> DeliveryError {
    match err {
        MailError::Transient(_) => DeliveryError::Retryable(err.to_string()),
        MailError::Permanent(_) => DeliveryError::Permanent(err.to_string()),
    }
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

/// `generate_invoice`: renders and stores the invoice of a paid order (`orders.order_paid`)
/// through [`InvoiceService::generate`], which is idempotent (an invoice already stored is
/// not made again).
pub struct InvoiceSubscriber {
    invoices: Arc<InvoiceService>,
}

impl InvoiceSubscriber {
    /// Builds the subscriber.
    #[must_use]
    pub fn new(invoices: Arc<InvoiceService>) -> Self {
        Self { invoices }
    }
}

#[async_trait]
impl Subscriber for InvoiceSubscriber {
    fn name(&self) -> &'static str {
        "generate_invoice"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<OrderPaid>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let order_id = delivery.event.decode::<OrderPaid>()?.order_id;
        match self.invoices.generate(order_id).await {
            Ok(key) => {
                tracing::info!(%order_id, delivery_id = %delivery.id, key = %key, "invoice generated");
                Ok(())
            }
            Err(e @ (OrdersError::NotFound | OrdersError::InvalidTransition { .. })) => Err(
                DeliveryError::Permanent(format!("no invoice for order {order_id}: {e}")),
            ),
            Err(e) => Err(retry(e)),
        }
    }
}

/// `generate_credit_note`: renders and stores the credit note of a counted refund
/// (`orders.order_refunded`) through [`InvoiceService::generate_credit_note`], which is
/// idempotent (a credit note already stored is not made again).
pub struct CreditNoteSubscriber {
    invoices: Arc<InvoiceService>,
}

impl CreditNoteSubscriber {
    /// Builds the subscriber.
    #[must_use]
    pub fn new(invoices: Arc<InvoiceService>) -> Self {
        Self { invoices }
    }
}

#[async_trait]
impl Subscriber for CreditNoteSubscriber {
    fn name(&self) -> &'static str {
        "generate_credit_note"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<OrderRefunded>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let OrderRefunded {
            order_id,
            refund_id,
            ..
        } = delivery.event.decode::<OrderRefunded>()?;
        match self
            .invoices
            .generate_credit_note(order_id, &refund_id)
            .await
        {
            Ok(key) => {
                tracing::info!(%order_id, delivery_id = %delivery.id, key = %key, "credit note generated");
                Ok(())
            }
            Err(e @ OrdersError::NotFound) => Err(DeliveryError::Permanent(format!(
                "no credit note for refund {refund_id} of order {order_id}: {e}"
            ))),
            Err(e) => Err(retry(e)),
        }
    }
}

/// `send_order_confirmation`: e-mails the buyer of a paid order (`orders.order_paid`) its
/// lines, total and a link to the invoice (`{base_url}/api/v1/orders/{id}/invoice`, which
/// answers once the invoice is stored). Every attempt of a delivery carries the same
/// Message-ID (the delivery's id), so a mail delivered twice is one mail.
pub struct OrderConfirmationSubscriber {
    orders: Arc<dyn OrderRepository>,
    buyers: Arc<dyn BuyerDirectory>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
    base_url: String,
}

impl OrderConfirmationSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs and
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
impl Subscriber for OrderConfirmationSubscriber {
    fn name(&self) -> &'static str {
        "send_order_confirmation"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<OrderPaid>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let order_id = delivery.event.decode::<OrderPaid>()?.order_id;
        let order = self
            .orders
            .find(order_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| {
                DeliveryError::Permanent(format!("order {order_id} no longer exists"))
            })?;
        if !order.status().was_paid() {
            return Err(DeliveryError::Permanent(format!(
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
                DeliveryError::Permanent(format!("the buyer of order {order_id} no longer exists"))
            })?;
        let to = Email::parse(&buyer.email).map_err(|e| {
            DeliveryError::Permanent(format!(
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
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let message = EmailMessage {
            message_id: format!("{}@{}", delivery.id, self.message_domain),
            to,
            to_name: Some(buyer.name),
            subject: rendered.subject,
            text_body: rendered.text_body,
            html_body: rendered.html_body,
        };
        self.mailer.send(&message).await.map_err(mail_error)?;
        tracing::info!(%order_id, delivery_id = %delivery.id, "order confirmation e-mailed");
        Ok(())
    }
}

#[cfg(test)]
#[path = "mailing_tests.rs"]
pub(crate) mod tests;
