//! Job handlers of money given back: the automatic refund of a payment no order could take,
//! and the e-mail that tells the buyer about any refund.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_kernel::{Clock, Currency, Email, Money};
use nexus_notifications::{
    EmailMessage, EmailRenderer, EmailTemplate, Job, JobError, JobHandler, JobKind, JobPayload,
    Mailer, NewJob,
};

use crate::{BuyerDirectory, OrderId, OrderRepository, PaymentError, PaymentGateway, format_money};

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retryable(e.to_string())
}

/// Runs `RefundUnappliedPayment` jobs: refunds the whole captured payment through the
/// gateway, exactly once, then queues the buyer's e-mail.
///
/// Idempotent across retries and duplicate deliveries: a payment already marked refunded is
/// left alone, and before refunding, the gateway is asked for a refund carrying our receipt
/// (a previous attempt may have refunded and then lost the answer).
pub struct UnappliedPaymentRefundHandler {
    orders: Arc<dyn OrderRepository>,
    gateway: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
}

impl UnappliedPaymentRefundHandler {
    /// Builds the handler.
    #[must_use]
    pub fn new(
        orders: Arc<dyn OrderRepository>,
        gateway: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            orders,
            gateway,
            clock,
        }
    }
}

#[async_trait]
impl JobHandler for UnappliedPaymentRefundHandler {
    fn kind(&self) -> JobKind {
        JobKind::RefundUnappliedPayment
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::RefundUnappliedPayment { unapplied_id } = payload else {
            return Err(JobError::Permanent(
                "payload is not an unapplied payment".into(),
            ));
        };
        let payment = self
            .orders
            .find_unapplied(*unapplied_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent(format!("no unapplied payment {unapplied_id}")))?;
        if payment.refund_id.is_some() {
            tracing::info!(%unapplied_id, "unapplied payment already refunded");
            return Ok(());
        }
        let receipt = payment.receipt();
        let found = self
            .gateway
            .find_refund(&payment.payment_id, &receipt)
            .await
            .map_err(gateway_error)?;
        let refund = match found {
            Some(refund) => refund,
            None => self
                .gateway
                .refund(
                    &payment.payment_id,
                    payment.amount,
                    "payment could not be applied to its order",
                    &receipt,
                )
                .await
                .map_err(gateway_error)?,
        };
        let notice = refund_notice(
            payment.order_id,
            payment.amount,
            payment.reason.explanation(),
            self.clock.now(),
        );
        self.orders
            .mark_unapplied_refunded(
                *unapplied_id,
                &refund.refund_id,
                self.clock.now(),
                &[notice],
            )
            .await
            .map_err(retry)?;
        tracing::warn!(
            %unapplied_id,
            order_id = %payment.order_id,
            refund_id = %refund.refund_id,
            job_id = %job.id,
            "payment that could not be applied was refunded"
        );
        Ok(())
    }
}

/// A refund the gateway refused will not pass by retrying the same request, but a human
/// must see it: it is retried (and ends DEAD, visible to administrators) either way.
fn gateway_error(e: PaymentError) -> JobError {
    retry(e)
}

/// The job that e-mails the buyer of `order_id` about `amount` given back.
pub(crate) fn refund_notice(
    order_id: OrderId,
    amount: Money,
    explanation: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> NewJob {
    NewJob::now(
        JobPayload::SendRefundNotice {
            order_id: order_id.as_uuid(),
            amount_minor: amount.amount_minor(),
            currency: amount.currency().as_str().to_owned(),
            explanation: explanation.to_owned(),
        },
        at,
    )
}

/// E-mails the buyer that money was given back. Every retry of a job carries the same
/// Message-ID.
pub struct RefundNoticeMailHandler {
    orders: Arc<dyn OrderRepository>,
    buyers: Arc<dyn BuyerDirectory>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl RefundNoticeMailHandler {
    /// Builds the handler; `message_domain` is the right-hand side of Message-IDs.
    #[must_use]
    pub fn new(
        orders: Arc<dyn OrderRepository>,
        buyers: Arc<dyn BuyerDirectory>,
        renderer: Arc<dyn EmailRenderer>,
        mailer: Arc<dyn Mailer>,
        message_domain: String,
    ) -> Self {
        Self {
            orders,
            buyers,
            renderer,
            mailer,
            message_domain,
        }
    }
}

#[async_trait]
impl JobHandler for RefundNoticeMailHandler {
    fn kind(&self) -> JobKind {
        JobKind::SendRefundNotice
    }

    async fn handle(&self, job: &Job, payload: &JobPayload) -> Result<(), JobError> {
        let JobPayload::SendRefundNotice {
            order_id,
            amount_minor,
            currency,
            explanation,
        } = payload
        else {
            return Err(JobError::Permanent("payload is not a refund notice".into()));
        };
        let order_id = OrderId::from_uuid(*order_id);
        let amount = Currency::parse(currency)
            .ok()
            .and_then(|c| Money::new(*amount_minor, c).ok())
            .ok_or_else(|| JobError::Permanent("the refund notice has no valid amount".into()))?;
        let order = self
            .orders
            .find(order_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent(format!("order {order_id} no longer exists")))?;
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
            .render(&EmailTemplate::RefundNotice {
                customer_name: buyer.name.clone(),
                order_reference: order_id.to_string(),
                amount: format_money(amount),
                explanation: explanation.clone(),
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
        tracing::info!(%order_id, job_id = %job.id, "refund notice e-mailed");
        Ok(())
    }
}
