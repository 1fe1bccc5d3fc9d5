//! Subscribers of money given back: the automatic refund of a payment no order could take,
//! and the e-mail that tells the buyer about any refund.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_kernel::{Clock, Email};
use nexus_notifications::{EmailMessage, EmailRenderer, EmailTemplate, Mailer};
use nexus_outbox::{Delivery, DeliveryError, EventEnvelope, Subscriber, Subscription};

use crate::events::{OrderRefunded, PaymentUnapplied, UnappliedPaymentRefunded, amount_of};
use crate::mailing::{mail_error, retry};
use crate::{
    BuyerDirectory, OrderId, OrderRepository, OrdersUnitOfWork, PaymentError, PaymentGateway,
    format_money,
};

/// `refund_unapplied_payment`: refunds, through the gateway, the whole of a captured
/// payment no order could take (`orders.payment_unapplied`), exactly once, and records
/// `orders.unapplied_payment_refunded` (which has the buyer told).
///
/// Idempotent across retries and duplicate deliveries: a payment already marked refunded is
/// left alone, the mark is conditional (only while none is stored), and before refunding
/// the gateway is asked for a refund carrying our receipt (a previous attempt may have
/// refunded and then lost the answer).
pub struct UnappliedPaymentRefundSubscriber {
    uow: Arc<dyn OrdersUnitOfWork>,
    orders: Arc<dyn OrderRepository>,
    gateway: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
}

impl UnappliedPaymentRefundSubscriber {
    /// Builds the subscriber.
    #[must_use]
    pub fn new(
        uow: Arc<dyn OrdersUnitOfWork>,
        orders: Arc<dyn OrderRepository>,
        gateway: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            uow,
            orders,
            gateway,
            clock,
        }
    }
}

#[async_trait]
impl Subscriber for UnappliedPaymentRefundSubscriber {
    fn name(&self) -> &'static str {
        "refund_unapplied_payment"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<PaymentUnapplied>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let unapplied_id = delivery.event.decode::<PaymentUnapplied>()?.unapplied_id;
        let payment = self
            .orders
            .find_unapplied(unapplied_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| {
                DeliveryError::Permanent(format!("no unapplied payment {unapplied_id}"))
            })?;
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
        let now = self.clock.now();
        let mut tx = self.uow.begin().await.map_err(retry)?;
        let marked = tx
            .unapplied_payments()
            .mark_refunded(unapplied_id, &refund.refund_id, now)
            .await
            .map_err(retry)?;
        if marked {
            let event = EventEnvelope::new(
                &UnappliedPaymentRefunded {
                    unapplied_id,
                    order_id: payment.order_id,
                    refund_id: refund.refund_id.clone(),
                    amount_minor: payment.amount.amount_minor(),
                    currency: payment.amount.currency().as_str().to_owned(),
                    explanation: payment.reason.explanation().to_owned(),
                },
                now,
            )
            .map_err(retry)?;
            tx.record(event);
        }
        tx.commit().await.map_err(retry)?;
        tracing::warn!(
            %unapplied_id,
            order_id = %payment.order_id,
            refund_id = %refund.refund_id,
            delivery_id = %delivery.id,
            "payment that could not be applied was refunded"
        );
        Ok(())
    }
}

/// A refund the gateway refused will not pass by retrying the same request, but a human
/// must see it: it is retried (and ends DEAD, visible to administrators) either way.
fn gateway_error(e: PaymentError) -> DeliveryError {
    retry(e)
}

/// What the buyer is told about money given back.
struct Notice {
    order_id: OrderId,
    amount_minor: i64,
    currency: String,
    explanation: String,
}

/// `send_refund_notice`: e-mails the buyer that money was given back, for a counted refund
/// (`orders.order_refunded`) and for a refunded payment no order could take
/// (`orders.unapplied_payment_refunded`). Every attempt of a delivery carries the same
/// Message-ID (the delivery's id), so a notice delivered twice is one mail.
pub struct RefundNoticeSubscriber {
    orders: Arc<dyn OrderRepository>,
    buyers: Arc<dyn BuyerDirectory>,
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    message_domain: String,
}

impl RefundNoticeSubscriber {
    /// Builds the subscriber; `message_domain` is the right-hand side of Message-IDs.
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

/// The notice an event asks for.
fn notice_of(event: &EventEnvelope) -> Result<Notice, DeliveryError> {
    if event.is::<UnappliedPaymentRefunded>() {
        let e = event.decode::<UnappliedPaymentRefunded>()?;
        return Ok(Notice {
            order_id: e.order_id,
            amount_minor: e.amount_minor,
            currency: e.currency,
            explanation: e.explanation,
        });
    }
    let e = event.decode::<OrderRefunded>()?;
    Ok(Notice {
        order_id: e.order_id,
        amount_minor: e.amount_minor,
        currency: e.currency,
        explanation: e.explanation,
    })
}

#[async_trait]
impl Subscriber for RefundNoticeSubscriber {
    fn name(&self) -> &'static str {
        "send_refund_notice"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![
            Subscription::to::<OrderRefunded>(),
            Subscription::to::<UnappliedPaymentRefunded>(),
        ]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let notice = notice_of(&delivery.event)?;
        let order_id = notice.order_id;
        let amount = amount_of(notice.amount_minor, &notice.currency).ok_or_else(|| {
            DeliveryError::Permanent("the refund notice has no valid amount".into())
        })?;
        let order = self
            .orders
            .find(order_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| {
                DeliveryError::Permanent(format!("order {order_id} no longer exists"))
            })?;
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
            .render(&EmailTemplate::RefundNotice {
                customer_name: buyer.name.clone(),
                order_reference: order_id.to_string(),
                amount: format_money(amount),
                explanation: notice.explanation,
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
        tracing::info!(%order_id, delivery_id = %delivery.id, "refund notice e-mailed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::Ordering;

    use chrono::{DateTime, Utc};
    use nexus_kernel::{Currency, FixedClock, Money, UserId};
    use nexus_notifications::{MockEmailRenderer, MockMailer, RenderedEmail};
    use uuid::Uuid;

    use super::*;
    use crate::mailing::tests::delivery_of;
    use crate::test_tx::TestTx;
    use crate::{
        Buyer, GatewayKind, GatewayRefund, MockBuyerDirectory, MockOrderRepository,
        MockOrdersUnitOfWork, MockPaymentGateway, Order, OrderLine, UnappliedPayment,
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

    fn event_of(payment: &UnappliedPayment) -> PaymentUnapplied {
        PaymentUnapplied {
            unapplied_id: payment.id,
            order_id: payment.order_id,
        }
    }

    /// A repository holding `payment`, marked refunded once a unit of work commits the mark.
    fn repo(payment: &UnappliedPayment) -> (MockOrderRepository, Arc<Mutex<UnappliedPayment>>) {
        let stored = Arc::new(Mutex::new(payment.clone()));
        let mut repo = MockOrderRepository::new();
        let read = stored.clone();
        repo.expect_find_unapplied()
            .returning(move |_| Ok(Some(read.lock().expect("not poisoned").clone())));
        (repo, stored)
    }

    /// Units of work that each expect the payment marked refunded as `refund_id`; the
    /// returned list holds what each recorded, the counter their commits.
    fn marking(
        stored: &Arc<Mutex<UnappliedPayment>>,
        refund_id: &'static str,
    ) -> (
        MockOrdersUnitOfWork,
        Arc<Mutex<Vec<nexus_outbox::EventEnvelope>>>,
        Arc<std::sync::atomic::AtomicUsize>,
    ) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let commits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut uow = MockOrdersUnitOfWork::new();
        let (stored, all_events, all_commits) = (stored.clone(), events.clone(), commits.clone());
        uow.expect_begin().returning(move || {
            let mut tx = TestTx::new();
            let marked = stored.clone();
            tx.unapplied
                .expect_mark_refunded()
                .withf(move |_, id, _| id == refund_id)
                .times(1)
                .returning(move |_, id, _| {
                    let mut payment = marked.lock().expect("not poisoned");
                    let new = payment.refund_id.is_none();
                    payment.refund_id.get_or_insert_with(|| id.to_owned());
                    Ok(new)
                });
            let (events, commits) = (all_events.clone(), all_commits.clone());
            let recorded = tx.events.clone();
            tx.on_commit = Some(Box::new(move |_| {
                events
                    .lock()
                    .expect("not poisoned")
                    .extend(recorded.lock().expect("not poisoned").iter().cloned());
                commits.fetch_add(1, Ordering::SeqCst);
            }));
            Ok(Box::new(tx) as Box<dyn crate::OrdersTx>)
        });
        (uow, events, commits)
    }

    fn subscriber(
        uow: MockOrdersUnitOfWork,
        repo: MockOrderRepository,
        gateway: MockPaymentGateway,
    ) -> UnappliedPaymentRefundSubscriber {
        UnappliedPaymentRefundSubscriber::new(
            Arc::new(uow),
            Arc::new(repo),
            Arc::new(gateway),
            Arc::new(FixedClock::default()),
        )
    }

    fn refunded(id: &str) -> GatewayRefund {
        GatewayRefund {
            refund_id: id.into(),
            amount: inr(49_900),
            status: "processed".into(),
        }
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
            .returning(|_, _, _, _| Ok(refunded("rfnd_auto")));
        let (repo, stored) = repo(&payment);
        let (uow, events, commits) = marking(&stored, "rfnd_auto");
        let subscriber = subscriber(uow, repo, gateway);

        let result = subscriber
            .deliver(&delivery_of(
                &event_of(&payment),
                "refund_unapplied_payment",
            ))
            .await;

        assert_eq!(result, Ok(()));
        assert_eq!(subscriber.name(), "refund_unapplied_payment");
        assert_eq!(commits.load(Ordering::SeqCst), 1);
        let events = events.lock().expect("not poisoned").clone();
        let [told] = events.as_slice() else {
            panic!("one event expected, got {events:?}")
        };
        assert_eq!(
            told.decode::<UnappliedPaymentRefunded>()
                .expect("the event"),
            UnappliedPaymentRefunded {
                unapplied_id: payment.id,
                order_id: payment.order_id,
                refund_id: "rfnd_auto".into(),
                amount_minor: 49_900,
                currency: "INR".into(),
                explanation: UnappliedReason::PaidByAnotherPayment.explanation().into(),
            }
        );
    }

    #[tokio::test]
    async fn delivered_twice_it_refunds_and_tells_the_buyer_once() {
        let payment = unapplied(None);
        let mut gateway = MockPaymentGateway::new();
        gateway
            .expect_find_refund()
            .times(1)
            .returning(|_, _| Ok(None));
        gateway
            .expect_refund()
            .times(1)
            .returning(|_, _, _, _| Ok(refunded("rfnd_auto")));
        let (repo, stored) = repo(&payment);
        let (uow, events, commits) = marking(&stored, "rfnd_auto");
        let subscriber = subscriber(uow, repo, gateway);
        let delivery = delivery_of(&event_of(&payment), "refund_unapplied_payment");

        assert_eq!(subscriber.deliver(&delivery).await, Ok(()));
        assert_eq!(subscriber.deliver(&delivery).await, Ok(()));

        assert_eq!(commits.load(Ordering::SeqCst), 1);
        assert_eq!(events.lock().expect("not poisoned").len(), 1);
    }

    #[tokio::test]
    async fn a_retry_finds_the_refund_by_its_receipt_and_never_refunds_twice() {
        let payment = unapplied(None);
        let mut gateway = MockPaymentGateway::new();
        gateway
            .expect_find_refund()
            .returning(|_, _| Ok(Some(refunded("rfnd_earlier"))));
        gateway.expect_refund().never();
        let (repo, stored) = repo(&payment);
        let (uow, _, commits) = marking(&stored, "rfnd_earlier");

        let result = subscriber(uow, repo, gateway)
            .deliver(&delivery_of(
                &event_of(&payment),
                "refund_unapplied_payment",
            ))
            .await;

        assert_eq!(result, Ok(()));
        assert_eq!(commits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_payment_already_refunded_is_left_alone() {
        let payment = unapplied(Some("rfnd_done"));
        let mut gateway = MockPaymentGateway::new();
        gateway.expect_find_refund().never();
        gateway.expect_refund().never();
        let (repo, _) = repo(&payment);
        let mut uow = MockOrdersUnitOfWork::new();
        uow.expect_begin().never();

        let result = subscriber(uow, repo, gateway)
            .deliver(&delivery_of(
                &event_of(&payment),
                "refund_unapplied_payment",
            ))
            .await;

        assert_eq!(result, Ok(()));
    }

    #[tokio::test]
    async fn a_gateway_that_does_not_answer_is_retried_and_nothing_is_marked() {
        let payment = unapplied(None);
        let mut gateway = MockPaymentGateway::new();
        gateway.expect_find_refund().returning(|_, _| Ok(None));
        gateway
            .expect_refund()
            .returning(|_, _, _, _| Err(PaymentError::Unavailable("timeout".into())));
        let (repo, _) = repo(&payment);
        let mut uow = MockOrdersUnitOfWork::new();
        uow.expect_begin().never();

        let result = subscriber(uow, repo, gateway)
            .deliver(&delivery_of(
                &event_of(&payment),
                "refund_unapplied_payment",
            ))
            .await;

        assert!(
            matches!(result, Err(DeliveryError::Retryable(_))),
            "{result:?}"
        );
    }

    fn order_of(user: UserId) -> Order {
        Order::place(
            user,
            vec![OrderLine {
                product_id: nexus_catalog::ProductId::new(),
                title: "Rust book".into(),
                unit_price: inr(49_900),
            }],
            GatewayKind::Razorpay,
            DateTime::<Utc>::UNIX_EPOCH,
        )
        .expect("valid order")
    }

    fn notices(order: &Order, mailer: MockMailer) -> RefundNoticeSubscriber {
        let stored = order.clone();
        let mut repo = MockOrderRepository::new();
        repo.expect_find()
            .returning(move |id| Ok((id == stored.id()).then(|| stored.clone())));
        let user = order.user_id();
        let mut buyers = MockBuyerDirectory::new();
        buyers.expect_buyer().returning(move |id| {
            Ok((id == user).then(|| Buyer {
                name: "Ada Lovelace".into(),
                email: "ada@example.com".into(),
            }))
        });
        let mut renderer = MockEmailRenderer::new();
        renderer.expect_render().returning(|template| {
            assert!(
                matches!(template, EmailTemplate::RefundNotice { amount, .. } if amount == "INR 499.00"),
                "{template:?}"
            );
            Ok(RenderedEmail {
                subject: "Refund".into(),
                text_body: "text".into(),
                html_body: "<p>html</p>".into(),
            })
        });
        RefundNoticeSubscriber::new(
            Arc::new(repo),
            Arc::new(buyers),
            Arc::new(renderer),
            Arc::new(mailer),
            "mail.example.com".into(),
        )
    }

    #[tokio::test]
    async fn every_refund_is_told_with_the_delivery_as_message_id_even_when_delivered_twice() {
        let order = order_of(UserId::new());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let mut mailer = MockMailer::new();
        let seen = sent.clone();
        mailer.expect_send().returning(move |m| {
            seen.lock()
                .expect("not poisoned")
                .push(m.message_id.clone());
            Ok(())
        });
        let subscriber = notices(&order, mailer);
        let counted = delivery_of(
            &OrderRefunded {
                order_id: order.id(),
                refund_id: "rfnd_1".into(),
                amount_minor: 49_900,
                currency: "INR".into(),
                explanation: "Bought by mistake".into(),
            },
            "send_refund_notice",
        );
        let automatic = delivery_of(
            &UnappliedPaymentRefunded {
                unapplied_id: Uuid::now_v7(),
                order_id: order.id(),
                refund_id: "rfnd_2".into(),
                amount_minor: 49_900,
                currency: "INR".into(),
                explanation: "the order had expired".into(),
            },
            "send_refund_notice",
        );

        for delivery in [&counted, &counted, &automatic] {
            assert_eq!(subscriber.deliver(delivery).await, Ok(()));
        }

        let ids = sent.lock().expect("not poisoned").clone();
        assert_eq!(
            ids,
            [
                format!("{}@mail.example.com", counted.id),
                format!("{}@mail.example.com", counted.id),
                format!("{}@mail.example.com", automatic.id),
            ]
        );
        assert_eq!(subscriber.name(), "send_refund_notice");
        assert_eq!(
            subscriber.subscriptions(),
            [
                Subscription::to::<OrderRefunded>(),
                Subscription::to::<UnappliedPaymentRefunded>()
            ]
        );
    }

    #[tokio::test]
    async fn a_notice_without_a_valid_amount_is_permanent_and_a_busy_mailer_retried() {
        let order = order_of(UserId::new());
        let mut mailer = MockMailer::new();
        mailer.expect_send().returning(|_| {
            Err(nexus_notifications::MailError::Transient(
                "421 try later".into(),
            ))
        });
        let subscriber = notices(&order, mailer);
        let refund = |currency: &str| OrderRefunded {
            order_id: order.id(),
            refund_id: "rfnd_1".into(),
            amount_minor: 49_900,
            currency: currency.into(),
            explanation: "x".into(),
        };

        let bad = subscriber
            .deliver(&delivery_of(&refund("XX"), "send_refund_notice"))
            .await;
        let busy = subscriber
            .deliver(&delivery_of(&refund("INR"), "send_refund_notice"))
            .await;

        assert!(matches!(bad, Err(DeliveryError::Permanent(_))), "{bad:?}");
        assert!(matches!(busy, Err(DeliveryError::Retryable(_))), "{busy:?}");
    }
}
