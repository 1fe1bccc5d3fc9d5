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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use nexus_kernel::{FixedClock, UserId};
    use nexus_notifications::{Job, JobState};
    use uuid::Uuid;

    use super::*;
    use crate::{
        GatewayKind, GatewayRefund, MockOrderRepository, MockPaymentGateway, UnappliedPayment,
        UnappliedReason,
    };

    fn inr(minor: i64) -> Money {
        Money::new(minor, Currency::INR).expect("valid amount")
    }

    fn unapplied(refund_id: Option<&str>) -> UnappliedPayment {
        UnappliedPayment {
            id: Uuid::now_v7(),
            order_id: OrderId::new(),
            user_id: UserId::new(),
            payment_id: "pay_2".into(),
            amount: inr(49_900),
            reason: UnappliedReason::PaidByAnotherPayment,
            refund_id: refund_id.map(str::to_owned),
            at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn job(payload: &JobPayload) -> Job {
        Job {
            id: nexus_kernel::JobId::new(),
            kind: payload.kind(),
            payload: Some(payload.clone()),
            state: JobState::Running,
            attempts: 1,
            max_attempts: 8,
            run_at: DateTime::<Utc>::UNIX_EPOCH,
            locked_by: Some("worker-1".into()),
            locked_until: None,
            last_error: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// A repository holding `payment` that expects `marks` calls marking it refunded as
    /// `refund_id`, each with the buyer's notice.
    fn repo(
        payment: &UnappliedPayment,
        marks: usize,
        refund_id: &'static str,
    ) -> MockOrderRepository {
        let mut repo = MockOrderRepository::new();
        let stored = payment.clone();
        repo.expect_find_unapplied()
            .returning(move |_| Ok(Some(stored.clone())));
        repo.expect_mark_unapplied_refunded()
            .withf(move |_, id, _, jobs| {
                id == refund_id
                    && matches!(
                        jobs,
                        [NewJob {
                            payload: JobPayload::SendRefundNotice {
                                amount_minor: 49_900,
                                ..
                            },
                            ..
                        }]
                    )
            })
            .times(marks)
            .returning(|_, _, _, _| Ok(true));
        repo
    }

    fn handler(
        repo: MockOrderRepository,
        gateway: MockPaymentGateway,
    ) -> UnappliedPaymentRefundHandler {
        UnappliedPaymentRefundHandler::new(
            Arc::new(repo),
            Arc::new(gateway),
            Arc::new(FixedClock::default()),
        )
    }

    #[tokio::test]
    async fn an_unapplied_payment_is_refunded_whole_with_our_receipt_and_the_buyer_told() {
        let payment = unapplied(None);
        let receipt = payment.receipt();
        let mut gateway = MockPaymentGateway::new();
        gateway.expect_kind().return_const(GatewayKind::Razorpay);
        gateway
            .expect_find_refund()
            .times(1)
            .returning(|_, _| Ok(None));
        gateway
            .expect_refund()
            .withf(move |payment_id, amount, _, r| {
                payment_id == "pay_2" && *amount == inr(49_900) && r == receipt
            })
            .times(1)
            .returning(|_, amount, _, _| {
                Ok(GatewayRefund {
                    refund_id: "rfnd_auto".into(),
                    amount,
                    status: "processed".into(),
                })
            });
        let payload = JobPayload::RefundUnappliedPayment {
            unapplied_id: payment.id,
        };

        let result = handler(repo(&payment, 1, "rfnd_auto"), gateway)
            .handle(&job(&payload), &payload)
            .await;

        assert!(result.is_ok(), "{result:?}");
    }

    #[tokio::test]
    async fn a_retry_finds_the_refund_by_its_receipt_and_never_refunds_twice() {
        let payment = unapplied(None);
        let mut gateway = MockPaymentGateway::new();
        gateway.expect_find_refund().returning(|_, _| {
            Ok(Some(GatewayRefund {
                refund_id: "rfnd_earlier".into(),
                amount: inr(49_900),
                status: "processed".into(),
            }))
        });
        gateway.expect_refund().never();
        let payload = JobPayload::RefundUnappliedPayment {
            unapplied_id: payment.id,
        };

        let result = handler(repo(&payment, 1, "rfnd_earlier"), gateway)
            .handle(&job(&payload), &payload)
            .await;

        assert!(result.is_ok(), "{result:?}");
    }

    #[tokio::test]
    async fn a_payment_already_refunded_is_left_alone() {
        let payment = unapplied(Some("rfnd_done"));
        let mut gateway = MockPaymentGateway::new();
        gateway.expect_find_refund().never();
        gateway.expect_refund().never();
        let payload = JobPayload::RefundUnappliedPayment {
            unapplied_id: payment.id,
        };

        let result = handler(repo(&payment, 0, "rfnd_done"), gateway)
            .handle(&job(&payload), &payload)
            .await;

        assert!(result.is_ok(), "{result:?}");
    }

    #[tokio::test]
    async fn a_gateway_that_does_not_answer_is_retried_and_nothing_is_marked() {
        let payment = unapplied(None);
        let mut gateway = MockPaymentGateway::new();
        gateway.expect_find_refund().returning(|_, _| Ok(None));
        gateway
            .expect_refund()
            .returning(|_, _, _, _| Err(PaymentError::Unavailable("timeout".into())));
        let payload = JobPayload::RefundUnappliedPayment {
            unapplied_id: payment.id,
        };

        let result = handler(repo(&payment, 0, "none"), gateway)
            .handle(&job(&payload), &payload)
            .await;

        assert!(matches!(result, Err(JobError::Retryable(_))), "{result:?}");
    }
}
