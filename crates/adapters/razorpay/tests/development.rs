//! `DevelopmentGateway`: clearly labelled, moves no money, accepts no webhooks.

use std::io::Write;
use std::sync::{Arc, Mutex};

use nexus_kernel::{Currency, Money};
use nexus_orders::{GatewayKind, PaymentError, PaymentGateway};
use nexus_razorpay::{DEVELOPMENT_KEY_ID, DEVELOPMENT_SIGNATURE, DevelopmentGateway};

fn inr(paise: i64) -> Money {
    Money::new(paise, Currency::INR).expect("valid amount")
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn building_it_logs_a_warning_that_no_real_payments_are_taken() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();

    tracing::subscriber::with_default(subscriber, || {
        let _gateway = DevelopmentGateway::new();
    });

    let logs = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("utf-8");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(
        logs.contains("development payment gateway: no real payments"),
        "{logs}"
    );
}

#[test]
fn it_says_what_it_is() {
    let gateway = DevelopmentGateway::new();

    assert_eq!(gateway.kind(), GatewayKind::Development);
    assert_eq!(gateway.key_id().0, "dev_gateway_NO_REAL_PAYMENTS");
    assert_eq!(DEVELOPMENT_KEY_ID, "dev_gateway_NO_REAL_PAYMENTS");
}

#[tokio::test]
async fn create_order_makes_up_a_dev_order_for_the_amount_asked() {
    let gateway = DevelopmentGateway::new();

    let first = gateway
        .create_order(inr(49_900), "r-1")
        .await
        .expect("created");
    let second = gateway
        .create_order(inr(49_900), "r-1")
        .await
        .expect("created");

    let suffix = first
        .gateway_order_id
        .strip_prefix("dev_order_")
        .expect("dev_order_ prefix");
    assert_eq!(suffix.len(), 32);
    assert!(suffix.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(first.gateway_order_id, second.gateway_order_id);
    assert_eq!(first.amount, inr(49_900));
    assert_eq!(first.receipt, "r-1");
}

#[tokio::test]
async fn create_order_refuses_receipts_razorpay_would_refuse() {
    let gateway = DevelopmentGateway::new();

    let result = gateway.create_order(inr(100), &"r".repeat(41)).await;

    assert!(
        matches!(result, Err(PaymentError::Rejected(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn only_the_dev_signature_on_a_dev_order_verifies() {
    let gateway = DevelopmentGateway::new();
    let order = gateway
        .create_order(inr(100), "r-1")
        .await
        .expect("created");
    let order_id = order.gateway_order_id.as_str();

    assert!(gateway.verify_checkout_signature(order_id, "dev_pay_1", DEVELOPMENT_SIGNATURE));
    assert!(gateway.verify_checkout_signature(order_id, "dev_pay_1", "dev-signature"));
    assert!(!gateway.verify_checkout_signature(order_id, "dev_pay_1", "Dev-Signature"));
    assert!(!gateway.verify_checkout_signature(order_id, "dev_pay_1", ""));
    assert!(!gateway.verify_checkout_signature(order_id, "", DEVELOPMENT_SIGNATURE));
    assert!(!gateway.verify_checkout_signature("dev_order_", "dev_pay_1", DEVELOPMENT_SIGNATURE));
    assert!(!gateway.verify_checkout_signature(
        "order_IluGWxBm9U8zJ8",
        "pay_29QQoUBi66xm2f",
        DEVELOPMENT_SIGNATURE
    ));
}

#[test]
fn no_webhook_ever_verifies_or_parses() {
    let gateway = DevelopmentGateway::new();
    let body = br#"{"entity":"event","event":"order.paid","payload":{}}"#;

    assert!(!gateway.verify_webhook_signature(body, "dev-signature"));
    assert!(!gateway.verify_webhook_signature(body, ""));
    assert!(matches!(
        gateway.parse_webhook(body),
        Err(PaymentError::MalformedEvent(_))
    ));
}

#[tokio::test]
async fn refund_is_processed_at_once_with_a_dev_refund_id() {
    let gateway = DevelopmentGateway::new();

    let refund = gateway
        .refund("dev_pay_1", inr(2_500), "changed my mind", "rf_1")
        .await
        .expect("refunded");

    assert!(
        refund.refund_id.starts_with("dev_rfnd_"),
        "{}",
        refund.refund_id
    );
    assert_eq!(refund.refund_id.len(), "dev_rfnd_".len() + 32);
    assert_eq!(refund.amount, inr(2_500));
    assert_eq!(refund.status, "processed");
}

#[tokio::test]
async fn an_order_has_no_payments_to_report_because_no_money_moves() {
    let gateway = DevelopmentGateway::new();
    let order = gateway
        .create_order(inr(2_500), "receipt-1")
        .await
        .expect("created");

    let payments = gateway
        .order_payments(&order.gateway_order_id)
        .await
        .expect("answered");

    assert!(payments.is_empty(), "{payments:?}");
}
