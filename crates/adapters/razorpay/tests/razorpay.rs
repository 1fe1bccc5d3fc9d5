//! `RazorpayGateway` against a wiremock fake of Razorpay's API, plus its signature checks and
//! webhook parsing on bodies shaped like Razorpay's documented samples.

use std::net::TcpListener;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use nexus_kernel::{Currency, Money};
use nexus_orders::{GatewayKind, PaymentError, PaymentGateway, WebhookEvent};
use nexus_razorpay::{DEFAULT_API_BASE, InvalidRazorpayConfig, RazorpayConfig, RazorpayGateway};
use serde_json::json;
use sha2::Sha256;
use wiremock::matchers::{basic_auth, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY_ID: &str = "rzp_test_1DP5mmOlF5G5ag";
const KEY_SECRET: &str = "thisIsTheKeySecret_DO_NOT_LEAK";
const WEBHOOK_SECRET: &str = "whsec_ThisIsTheWebhookSecret_DO_NOT_LEAK";
/// base64("rzp_test_1DP5mmOlF5G5ag:thisIsTheKeySecret_DO_NOT_LEAK"): must not leak either.
const BASIC_CREDENTIALS: &str =
    "cnpwX3Rlc3RfMURQNW1tT2xGNUc1YWc6dGhpc0lzVGhlS2V5U2VjcmV0X0RPX05PVF9MRUFL";

fn config(api_base: &str, timeout: Duration) -> RazorpayConfig {
    RazorpayConfig {
        api_base: api_base.to_owned(),
        timeout,
        ..RazorpayConfig::new(KEY_ID, KEY_SECRET, WEBHOOK_SECRET)
    }
}

fn gateway_at(api_base: &str, timeout: Duration) -> RazorpayGateway {
    RazorpayGateway::new(config(api_base, timeout)).expect("valid config")
}

fn gateway(server: &MockServer) -> RazorpayGateway {
    gateway_at(&server.uri(), Duration::from_secs(5))
}

fn inr(paise: i64) -> Money {
    Money::new(paise, Currency::INR).expect("valid amount")
}

/// Razorpay's documented recipe, computed here independently of the crate.
fn hex_hmac_sha256(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn assert_no_secret(text: &str) {
    for secret in [KEY_SECRET, WEBHOOK_SECRET, BASIC_CREDENTIALS] {
        assert!(!text.contains(secret), "secret leaked into: {text}");
    }
}

fn razorpay_error(description: &str, field: &str) -> serde_json::Value {
    json!({
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": description,
            "source": "business",
            "step": "payment_initiation",
            "reason": "input_validation_failed",
            "metadata": {},
            "field": field
        }
    })
}

fn order_created(amount: i64, receipt: &str) -> serde_json::Value {
    json!({
        "id": "order_IluGWxBm9U8zJ8",
        "entity": "order",
        "amount": amount,
        "amount_paid": 0,
        "amount_due": amount,
        "currency": "INR",
        "receipt": receipt,
        "offer_id": null,
        "status": "created",
        "attempts": 0,
        "notes": [],
        "created_at": 1_642_662_092
    })
}

/// A port that was free a moment ago: connecting to it is refused.
fn closed_port_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

// ---------------------------------------------------------------- configuration

#[test]
fn config_defaults_to_razorpays_api_and_a_bounded_timeout() {
    let config = RazorpayConfig::new(KEY_ID, KEY_SECRET, WEBHOOK_SECRET);

    assert_eq!(config.api_base, DEFAULT_API_BASE);
    assert_eq!(DEFAULT_API_BASE, "https://api.razorpay.com");
    assert!(!config.timeout.is_zero());
    let gateway = RazorpayGateway::new(config).expect("valid config");
    assert_eq!(gateway.kind(), GatewayKind::Razorpay);
    assert_eq!(gateway.key_id().0, KEY_ID);
}

#[test]
fn unusable_config_is_refused_with_a_typed_error_and_no_secret() {
    let base = || config(DEFAULT_API_BASE, Duration::from_secs(1));
    let cases = [
        (
            RazorpayConfig {
                key_id: " ".to_owned(),
                ..base()
            },
            InvalidRazorpayConfig::EmptyKeyId,
        ),
        (
            RazorpayConfig {
                key_secret: String::new(),
                ..base()
            },
            InvalidRazorpayConfig::EmptyKeySecret,
        ),
        (
            RazorpayConfig {
                webhook_secret: String::new(),
                ..base()
            },
            InvalidRazorpayConfig::EmptyWebhookSecret,
        ),
        (
            RazorpayConfig {
                timeout: Duration::ZERO,
                ..base()
            },
            InvalidRazorpayConfig::ZeroTimeout,
        ),
        (
            RazorpayConfig {
                api_base: format!("https://{KEY_ID}:{KEY_SECRET}@api.razorpay.com"),
                ..base()
            },
            InvalidRazorpayConfig::ApiBase,
        ),
        (
            RazorpayConfig {
                api_base: "not a url".to_owned(),
                ..base()
            },
            InvalidRazorpayConfig::ApiBase,
        ),
    ];

    for (config, expected) in cases {
        let error = RazorpayGateway::new(config).expect_err("invalid config");
        assert_eq!(error, expected);
        assert_no_secret(&error.to_string());
        assert_no_secret(&format!("{error:?}"));
    }
}

#[test]
fn debug_output_never_shows_the_secrets() {
    let config = config(DEFAULT_API_BASE, Duration::from_secs(1));
    let gateway = RazorpayGateway::new(config.clone()).expect("valid config");

    for text in [
        format!("{config:?}"),
        format!("{gateway:?}"),
        format!("{gateway:#?}"),
    ] {
        assert_no_secret(&text);
        assert!(text.contains("[redacted]"), "{text}");
        assert!(
            text.contains(KEY_ID),
            "the public key id is useful in logs: {text}"
        );
    }
}

// ---------------------------------------------------------------- create_order

#[tokio::test]
async fn create_order_sends_basic_auth_and_paise_and_reads_razorpays_order() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .and(basic_auth(KEY_ID, KEY_SECRET))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "amount": 49_900,
            "currency": "INR",
            "receipt": "0190f3c4-8d2e-7a61-b1a2-3c4d5e6f7a8b"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_created(
            49_900,
            "0190f3c4-8d2e-7a61-b1a2-3c4d5e6f7a8b",
        )))
        .expect(1)
        .mount(&server)
        .await;

    let order = gateway(&server)
        .create_order(inr(49_900), "0190f3c4-8d2e-7a61-b1a2-3c4d5e6f7a8b")
        .await
        .expect("order created");

    assert_eq!(order.gateway_order_id, "order_IluGWxBm9U8zJ8");
    assert_eq!(order.amount, inr(49_900));
    assert_eq!(order.receipt, "0190f3c4-8d2e-7a61-b1a2-3c4d5e6f7a8b");
}

#[tokio::test]
async fn create_order_keeps_the_currency_razorpay_recorded() {
    let server = MockServer::start().await;
    let usd = Currency::parse("USD").expect("valid currency");
    let mut answer = order_created(5_000, "r-1");
    answer["currency"] = json!("USD");
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .and(body_json(
            json!({"amount": 5_000, "currency": "USD", "receipt": "r-1"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(&server)
        .await;

    let order = gateway(&server)
        .create_order(Money::new(5_000, usd).expect("valid"), "r-1")
        .await
        .expect("order created");

    assert_eq!(order.amount.currency(), usd);
}

#[tokio::test]
async fn a_400_with_razorpays_error_body_is_rejected_with_its_description() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(ResponseTemplate::new(400).set_body_json(razorpay_error(
            "The amount must be at least INR 1.00",
            "amount",
        )))
        .mount(&server)
        .await;

    let result = gateway(&server).create_order(inr(50), "r-1").await;

    match result {
        Err(PaymentError::Rejected(description)) => {
            assert_eq!(description, "The amount must be at least INR 1.00");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_401_for_bad_credentials_is_rejected_without_repeating_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}
        })))
        .mount(&server)
        .await;

    let error = gateway(&server)
        .create_order(inr(100), "r-1")
        .await
        .expect_err("refused");

    assert!(matches!(error, PaymentError::Rejected(ref d) if d == "Authentication failed"));
    assert_no_secret(&error.to_string());
    assert_no_secret(&format!("{error:?}"));
}

#[tokio::test]
async fn a_4xx_without_razorpays_error_body_is_still_rejected() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(ResponseTemplate::new(404).set_body_string("<html>not found</html>"))
        .mount(&server)
        .await;

    let result = gateway(&server).create_order(inr(100), "r-1").await;

    assert!(
        matches!(result, Err(PaymentError::Rejected(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_500_is_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"code": "SERVER_ERROR", "description": "The server encountered an error."}
        })))
        .mount(&server)
        .await;

    let error = gateway(&server)
        .create_order(inr(100), "r-1")
        .await
        .expect_err("failed");

    assert!(matches!(error, PaymentError::Unavailable(_)), "{error:?}");
    assert_no_secret(&error.to_string());
}

#[tokio::test]
async fn rate_limiting_is_unavailable_because_it_passes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(razorpay_error("Too many requests", "")),
        )
        .mount(&server)
        .await;

    let result = gateway(&server).create_order(inr(100), "r-1").await;

    assert!(
        matches!(result, Err(PaymentError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(order_created(100, "r-1"))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let gateway = gateway_at(&server.uri(), Duration::from_millis(200));

    let started = std::time::Instant::now();
    let error = gateway
        .create_order(inr(100), "r-1")
        .await
        .expect_err("timed out");

    assert!(matches!(error, PaymentError::Unavailable(_)), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the timeout was not applied"
    );
    assert_no_secret(&error.to_string());
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let gateway = gateway_at(&closed_port_base(), Duration::from_secs(2));

    let error = gateway
        .create_order(inr(100), "r-1")
        .await
        .expect_err("no server");

    assert!(matches!(error, PaymentError::Unavailable(_)), "{error:?}");
    assert_no_secret(&error.to_string());
    assert_no_secret(&format!("{error:?}"));
}

#[tokio::test]
async fn a_success_that_is_not_an_order_is_unexpected() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\": true}"))
        .mount(&server)
        .await;

    let result = gateway(&server).create_order(inr(100), "r-1").await;

    assert!(
        matches!(result, Err(PaymentError::Unexpected(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_receipt_razorpay_would_refuse_is_rejected_without_calling_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_created(100, "x")))
        .expect(0)
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    for receipt in [String::new(), "r".repeat(41)] {
        let result = gateway.create_order(inr(100), &receipt).await;
        assert!(
            matches!(result, Err(PaymentError::Rejected(_))),
            "{result:?}"
        );
    }
}

// ---------------------------------------------------------------- refund

#[tokio::test]
async fn refund_posts_the_amount_and_note_and_reads_the_refund() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payments/pay_29QQoUBi66xm2f/refund"))
        .and(basic_auth(KEY_ID, KEY_SECRET))
        .and(body_json(json!({
            "amount": 20_000,
            "receipt": "rf_1",
            "notes": {"reason": "customer asked within 7 days", "receipt": "rf_1"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "rfnd_FP8QHiV938haTz",
            "entity": "refund",
            "amount": 20_000,
            "receipt": null,
            "currency": "INR",
            "payment_id": "pay_29QQoUBi66xm2f",
            "notes": {"reason": "customer asked within 7 days"},
            "acquirer_data": {"arn": null},
            "created_at": 1_597_078_866,
            "batch_id": null,
            "status": "processed",
            "speed_processed": "normal",
            "speed_requested": "normal"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let refund = gateway(&server)
        .refund(
            "pay_29QQoUBi66xm2f",
            inr(20_000),
            "customer asked within 7 days",
            "rf_1",
        )
        .await
        .expect("refunded");

    assert_eq!(refund.refund_id, "rfnd_FP8QHiV938haTz");
    assert_eq!(refund.amount, inr(20_000));
    assert_eq!(refund.status, "processed");
}

#[tokio::test]
async fn refund_without_a_note_sends_only_the_receipt_and_keeps_a_pending_status() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payments/pay_29QQoUBi66xm2f/refund"))
        .and(body_json(
            json!({"amount": 100, "receipt": "rf_1", "notes": {"receipt": "rf_1"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "rfnd_FP8R8EGjGbPkVb",
            "entity": "refund",
            "amount": 100,
            "currency": "INR",
            "payment_id": "pay_29QQoUBi66xm2f",
            "status": "pending"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let refund = gateway(&server)
        .refund("pay_29QQoUBi66xm2f", inr(100), "", "rf_1")
        .await
        .expect("refund accepted");

    assert_eq!(refund.status, "pending");
}

#[tokio::test]
async fn a_refused_refund_is_rejected_with_razorpays_description() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payments/pay_29QQoUBi66xm2f/refund"))
        .respond_with(ResponseTemplate::new(400).set_body_json(razorpay_error(
            "The refund amount provided is greater than amount captured",
            "amount",
        )))
        .mount(&server)
        .await;

    let result = gateway(&server)
        .refund("pay_29QQoUBi66xm2f", inr(999_999), "too much", "rf_1")
        .await;

    assert!(
        matches!(&result, Err(PaymentError::Rejected(d)) if d == "The refund amount provided is greater than amount captured"),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_refund_hitting_a_server_error_is_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payments/pay_29QQoUBi66xm2f/refund"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;

    let result = gateway(&server)
        .refund("pay_29QQoUBi66xm2f", inr(100), "", "rf_1")
        .await;

    assert!(
        matches!(result, Err(PaymentError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_payment_id_that_could_change_the_url_is_rejected_without_calling_razorpay() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    for payment_id in ["", "pay_1/../../orders", "pay_1?x=1", "pay 1", "pay_1#"] {
        let result = gateway.refund(payment_id, inr(100), "", "rf_1").await;
        assert!(
            matches!(result, Err(PaymentError::Rejected(_))),
            "{payment_id:?}: {result:?}"
        );
    }
}

// ---------------------------------------------------------------- checkout signature

const ORDER_ID: &str = "order_9A33XWu170gUtm";
const PAYMENT_ID: &str = "pay_29QQoUBi66xm2f";

fn checkout_signature() -> String {
    hex_hmac_sha256(KEY_SECRET, format!("{ORDER_ID}|{PAYMENT_ID}").as_bytes())
}

#[test]
fn a_checkout_signature_made_per_razorpays_docs_verifies() {
    let gateway = gateway_at(DEFAULT_API_BASE, Duration::from_secs(1));

    assert!(gateway.verify_checkout_signature(ORDER_ID, PAYMENT_ID, &checkout_signature()));
}

#[test]
fn a_tampered_or_misplaced_checkout_signature_does_not_verify() {
    let gateway = gateway_at(DEFAULT_API_BASE, Duration::from_secs(1));
    let good = checkout_signature();
    let mut tampered = good.clone().into_bytes();
    tampered[10] = if tampered[10] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let with_webhook_secret = hex_hmac_sha256(
        WEBHOOK_SECRET,
        format!("{ORDER_ID}|{PAYMENT_ID}").as_bytes(),
    );

    assert!(!gateway.verify_checkout_signature(ORDER_ID, PAYMENT_ID, &tampered));
    assert!(!gateway.verify_checkout_signature("order_OTHER0000000", PAYMENT_ID, &good));
    assert!(!gateway.verify_checkout_signature(ORDER_ID, "pay_OTHER00000000", &good));
    assert!(!gateway.verify_checkout_signature(PAYMENT_ID, ORDER_ID, &good));
    assert!(!gateway.verify_checkout_signature(ORDER_ID, PAYMENT_ID, &with_webhook_secret));
}

#[test]
fn malformed_checkout_signatures_are_false_not_a_panic() {
    let gateway = gateway_at(DEFAULT_API_BASE, Duration::from_secs(1));
    let good = checkout_signature();

    for bad in [
        String::new(),
        "not-hex-at-all".to_owned(),
        format!("{}zz", &good[..62]),
        good[..63].to_owned(),
        good[..62].to_owned(),
        format!("{good}00"),
        format!(" {good}"),
        "é".repeat(32),
    ] {
        assert!(
            !gateway.verify_checkout_signature(ORDER_ID, PAYMENT_ID, &bad),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------- webhook signature

const CAPTURED_BODY: &str = r#"{"entity":"event","account_id":"acc_BFQ7uQEaa7j2z7","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_DESp9bgForNoUd","entity":"payment","amount":49900,"currency":"INR","status":"captured","order_id":"order_DESlLckIVRkHWj","invoice_id":null,"international":false,"method":"card","amount_refunded":0,"refund_status":null,"captured":true,"description":null,"card_id":"card_DESp9fNnu0RoNc","bank":null,"wallet":null,"vpa":null,"email":"gaurav.kumar@example.com","contact":"+919876543210","notes":[],"fee":1178,"tax":180,"error_code":"","error_description":"","error_source":null,"error_step":null,"error_reason":null,"acquirer_data":{"auth_code":"828553"},"created_at":1567674797}}},"created_at":1567674798}"#;

#[test]
fn a_webhook_signature_over_the_raw_body_verifies() {
    let gateway = gateway_at(DEFAULT_API_BASE, Duration::from_secs(1));
    let signature = hex_hmac_sha256(WEBHOOK_SECRET, CAPTURED_BODY.as_bytes());

    assert!(gateway.verify_webhook_signature(CAPTURED_BODY.as_bytes(), &signature));
}

#[test]
fn the_webhook_signature_is_byte_exact() {
    let gateway = gateway_at(DEFAULT_API_BASE, Duration::from_secs(1));
    let signature = hex_hmac_sha256(WEBHOOK_SECRET, CAPTURED_BODY.as_bytes());
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(CAPTURED_BODY).expect("json"),
    )
    .expect("json");
    let reserialised = serde_json::to_string(
        &serde_json::from_str::<serde_json::Value>(CAPTURED_BODY).expect("json"),
    )
    .expect("json");
    let trailing_newline = format!("{CAPTURED_BODY}\n");
    let spaced = CAPTURED_BODY.replacen("\"entity\":\"event\"", "\"entity\": \"event\"", 1);
    let different_amount = CAPTURED_BODY.replacen("49900", "49901", 1);

    for body in [
        pretty,
        reserialised,
        trailing_newline,
        spaced,
        different_amount,
    ] {
        assert_ne!(body, CAPTURED_BODY);
        assert!(
            !gateway.verify_webhook_signature(body.as_bytes(), &signature),
            "{body}"
        );
    }
}

#[test]
fn a_webhook_signed_with_the_wrong_secret_or_malformed_does_not_verify() {
    let gateway = gateway_at(DEFAULT_API_BASE, Duration::from_secs(1));
    let with_key_secret = hex_hmac_sha256(KEY_SECRET, CAPTURED_BODY.as_bytes());
    let good = hex_hmac_sha256(WEBHOOK_SECRET, CAPTURED_BODY.as_bytes());

    assert!(!gateway.verify_webhook_signature(CAPTURED_BODY.as_bytes(), &with_key_secret));
    for bad in [
        String::new(),
        "sha256=".to_owned() + &good,
        good[..40].to_owned(),
        "xyz".to_owned(),
    ] {
        assert!(
            !gateway.verify_webhook_signature(CAPTURED_BODY.as_bytes(), &bad),
            "{bad:?}"
        );
    }
    assert!(!gateway.verify_webhook_signature(b"", &good));
}

// ---------------------------------------------------------------- parse_webhook

fn parse(body: &str) -> Result<WebhookEvent, PaymentError> {
    gateway_at(DEFAULT_API_BASE, Duration::from_secs(1)).parse_webhook(body.as_bytes())
}

#[test]
fn payment_captured_becomes_payment_captured() {
    let event = parse(CAPTURED_BODY).expect("well-formed");

    assert_eq!(
        event,
        WebhookEvent::PaymentCaptured {
            gateway_order_id: "order_DESlLckIVRkHWj".to_owned(),
            payment_id: "pay_DESp9bgForNoUd".to_owned(),
            amount: inr(49_900),
        }
    );
}

const FAILED_BODY: &str = r#"{
  "entity": "event",
  "account_id": "acc_BFQ7uQEaa7j2z7",
  "event": "payment.failed",
  "contains": ["payment"],
  "payload": {
    "payment": {
      "entity": {
        "id": "pay_DQzh1vhEE0Vnhu",
        "entity": "payment",
        "amount": 49900,
        "currency": "INR",
        "status": "failed",
        "order_id": "order_DQzgRuL8J4E3M0",
        "invoice_id": null,
        "international": false,
        "method": "netbanking",
        "amount_refunded": 0,
        "refund_status": null,
        "captured": false,
        "description": null,
        "card_id": null,
        "bank": "HDFC",
        "wallet": null,
        "vpa": null,
        "email": "gaurav.kumar@example.com",
        "contact": "+919876543210",
        "notes": [],
        "fee": null,
        "tax": null,
        "error_code": "BAD_REQUEST_ERROR",
        "error_description": "Payment failed because the customer cancelled it on the bank page",
        "error_source": "customer",
        "error_step": "payment_authentication",
        "error_reason": "payment_cancelled",
        "acquirer_data": {"bank_transaction_id": null},
        "created_at": 1570611808
      }
    }
  },
  "created_at": 1570611810
}"#;

#[test]
fn payment_failed_becomes_payment_failed_with_the_code_and_reason() {
    let event = parse(FAILED_BODY).expect("well-formed");

    assert_eq!(
        event,
        WebhookEvent::PaymentFailed {
            gateway_order_id: "order_DQzgRuL8J4E3M0".to_owned(),
            payment_id: "pay_DQzh1vhEE0Vnhu".to_owned(),
            code: Some("BAD_REQUEST_ERROR".to_owned()),
            reason: Some(
                "Payment failed because the customer cancelled it on the bank page".to_owned()
            ),
        }
    );
}

#[test]
fn payment_failed_without_a_description_has_no_reason() {
    for description in ["null", "\"\""] {
        let body = FAILED_BODY.replace(
            "\"Payment failed because the customer cancelled it on the bank page\"",
            description,
        );

        let event = parse(&body).expect("well-formed");

        assert!(
            matches!(event, WebhookEvent::PaymentFailed { reason: None, .. }),
            "{event:?}"
        );
    }
}

const ORDER_PAID_BODY: &str = r#"{
  "entity": "event",
  "account_id": "acc_BFQ7uQEaa7j2z7",
  "event": "order.paid",
  "contains": ["payment", "order"],
  "payload": {
    "payment": {
      "entity": {
        "id": "pay_DESlfW9H8K9uqM",
        "entity": "payment",
        "amount": 100,
        "currency": "INR",
        "status": "captured",
        "order_id": "order_DESlLckIVRkHWj",
        "invoice_id": null,
        "international": false,
        "method": "netbanking",
        "amount_refunded": 0,
        "refund_status": null,
        "captured": true,
        "description": null,
        "card_id": null,
        "bank": "HDFC",
        "wallet": null,
        "vpa": null,
        "email": "gaurav.kumar@example.com",
        "contact": "+919876543210",
        "notes": [],
        "fee": 2,
        "tax": 0,
        "error_code": null,
        "error_description": null,
        "created_at": 1567674599
      }
    },
    "order": {
      "entity": {
        "id": "order_DESlLckIVRkHWj",
        "entity": "order",
        "amount": 100,
        "amount_paid": 100,
        "amount_due": 0,
        "currency": "INR",
        "receipt": "rcptid #1",
        "offer_id": null,
        "status": "paid",
        "attempts": 1,
        "notes": [],
        "created_at": 1567674581
      }
    }
  },
  "created_at": 1567674606
}"#;

#[test]
fn order_paid_becomes_order_paid_with_the_amount_paid() {
    let event = parse(ORDER_PAID_BODY).expect("well-formed");

    assert_eq!(
        event,
        WebhookEvent::OrderPaid {
            gateway_order_id: "order_DESlLckIVRkHWj".to_owned(),
            payment_id: "pay_DESlfW9H8K9uqM".to_owned(),
            amount: inr(100),
        }
    );
}

const REFUND_PROCESSED_BODY: &str = r#"{
  "entity": "event",
  "account_id": "acc_C22WOuBW79sh0n",
  "event": "refund.processed",
  "contains": ["refund", "payment"],
  "payload": {
    "refund": {
      "entity": {
        "id": "rfnd_Heax5rxucwf2aS",
        "entity": "refund",
        "amount": 4000,
        "currency": "INR",
        "payment_id": "pay_HeGCvvjQIAjsvZ",
        "notes": [],
        "receipt": null,
        "acquirer_data": {"arn": null},
        "created_at": 1627528610,
        "batch_id": null,
        "status": "processed",
        "speed_processed": "normal",
        "speed_requested": "normal"
      }
    },
    "payment": {
      "entity": {
        "id": "pay_HeGCvvjQIAjsvZ",
        "entity": "payment",
        "amount": 4000,
        "currency": "INR",
        "status": "refunded",
        "order_id": "order_HeGCnjDGqpe5oW",
        "method": "card",
        "amount_refunded": 4000,
        "refund_status": "full",
        "captured": true,
        "error_code": null,
        "error_description": null,
        "created_at": 1627455556
      }
    }
  },
  "created_at": 1627528610
}"#;

#[test]
fn refund_processed_becomes_refund_processed() {
    let event = parse(REFUND_PROCESSED_BODY).expect("well-formed");

    assert_eq!(
        event,
        WebhookEvent::RefundProcessed {
            payment_id: "pay_HeGCvvjQIAjsvZ".to_owned(),
            refund_id: "rfnd_Heax5rxucwf2aS".to_owned(),
            amount: inr(4_000),
            captured_for: Some(("order_HeGCnjDGqpe5oW".to_owned(), inr(4_000))),
        }
    );
}

#[test]
fn an_unknown_event_is_other_whatever_its_payload() {
    let authorized = CAPTURED_BODY.replace("payment.captured", "payment.authorized");
    let subscription = r#"{"entity":"event","event":"subscription.charged","contains":["subscription","payment"],"payload":{"subscription":{"entity":{"id":"sub_00000000000001"}},"payment":{"entity":{"id":42}}},"created_at":1567674606}"#;

    assert_eq!(
        parse(&authorized).expect("well-formed"),
        WebhookEvent::Other {
            event: "payment.authorized".to_owned()
        }
    );
    assert_eq!(
        parse(subscription).expect("well-formed"),
        WebhookEvent::Other {
            event: "subscription.charged".to_owned()
        }
    );
}

#[test]
fn malformed_bodies_are_malformed_events() {
    let cases: Vec<(&str, String)> = vec![
        ("empty body", String::new()),
        ("not JSON", "payment.captured".to_owned()),
        ("JSON but not an object", "[1, 2, 3]".to_owned()),
        (
            "no event name",
            r#"{"entity":"event","payload":{}}"#.to_owned(),
        ),
        (
            "empty event name",
            r#"{"entity":"event","event":"","payload":{}}"#.to_owned(),
        ),
        (
            "not an event entity",
            CAPTURED_BODY.replacen("\"entity\":\"event\"", "\"entity\":\"payment\"", 1),
        ),
        (
            "no payment entity",
            r#"{"entity":"event","event":"payment.captured","payload":{},"created_at":1}"#
                .to_owned(),
        ),
        (
            "payment without order_id",
            CAPTURED_BODY.replace("\"order_id\":\"order_DESlLckIVRkHWj\"", "\"order_id\":null"),
        ),
        (
            "amount as text",
            CAPTURED_BODY.replace("\"amount\":49900", "\"amount\":\"499.00\""),
        ),
        (
            "negative amount",
            CAPTURED_BODY.replace("\"amount\":49900", "\"amount\":-1"),
        ),
        (
            "bad currency",
            CAPTURED_BODY.replace("\"currency\":\"INR\"", "\"currency\":\"RUPEES\""),
        ),
        (
            "empty payment id",
            CAPTURED_BODY.replace("\"id\":\"pay_DESp9bgForNoUd\"", "\"id\":\"\""),
        ),
        (
            "order.paid without the order",
            ORDER_PAID_BODY.replace("\"order\": {", "\"ignored\": {"),
        ),
        (
            "order.paid without amount_paid",
            ORDER_PAID_BODY.replace("\"amount_paid\": 100,", ""),
        ),
        (
            "refund.processed without payment_id",
            REFUND_PROCESSED_BODY.replacen("\"payment_id\": \"pay_HeGCvvjQIAjsvZ\",", "", 1),
        ),
    ];

    for (name, body) in cases {
        let result = parse(&body);
        assert!(
            matches!(result, Err(PaymentError::MalformedEvent(_))),
            "{name}: {result:?}"
        );
    }
}

// ------------------------------------------------------- find refund, fetch payment

#[tokio::test]
async fn find_refund_lists_the_payments_refunds_and_matches_our_receipt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/payments/pay_29QQoUBi66xm2f/refunds"))
        .and(basic_auth(KEY_ID, KEY_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "entity": "collection",
            "count": 2,
            "items": [
                {"id": "rfnd_other", "entity": "refund", "amount": 100, "currency": "INR",
                 "payment_id": "pay_29QQoUBi66xm2f", "receipt": "someone-else", "notes": [],
                 "status": "processed"},
                {"id": "rfnd_ours", "entity": "refund", "amount": 500, "currency": "INR",
                 "payment_id": "pay_29QQoUBi66xm2f", "receipt": null,
                 "notes": {"receipt": "rf_abc"}, "status": "processed"}
            ]
        })))
        .mount(&server)
        .await;

    let found = gateway(&server)
        .find_refund("pay_29QQoUBi66xm2f", "rf_abc")
        .await
        .expect("listed");
    let missing = gateway(&server)
        .find_refund("pay_29QQoUBi66xm2f", "rf_none")
        .await
        .expect("listed");

    assert_eq!(
        found.map(|r| (r.refund_id, r.amount)),
        Some(("rfnd_ours".to_owned(), inr(500)))
    );
    assert_eq!(missing, None);
}

#[tokio::test]
async fn fetch_payment_reads_status_amount_and_order() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/payments/pay_29QQoUBi66xm2f"))
        .and(basic_auth(KEY_ID, KEY_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "pay_29QQoUBi66xm2f", "entity": "payment", "amount": 500, "currency": "INR",
            "status": "captured", "order_id": "order_9A33XWu170gUtm", "captured": true
        })))
        .mount(&server)
        .await;

    let payment = gateway(&server)
        .fetch_payment("pay_29QQoUBi66xm2f")
        .await
        .expect("fetched");

    assert_eq!(payment.status, "captured");
    assert_eq!(payment.amount, inr(500));
    assert_eq!(
        payment.gateway_order_id.as_deref(),
        Some("order_9A33XWu170gUtm")
    );
}

// ------------------------------------------------------------- payments of an order

/// A payment entity as Razorpay documents it for `GET /v1/orders/{id}/payments`.
fn payment_entity(id: &str, amount: i64, status: &str) -> serde_json::Value {
    json!({
        "id": id, "entity": "payment", "amount": amount, "currency": "INR",
        "status": status, "order_id": "order_9A33XWu170gUtm", "invoice_id": null,
        "international": false, "method": "upi", "amount_refunded": 0,
        "refund_status": null, "captured": status == "captured", "description": null,
        "email": "gaurav.kumar@example.com", "contact": "+919000090000", "fee": 1178,
        "tax": 180, "error_code": null, "error_description": null,
        "created_at": 1_700_000_000
    })
}

#[tokio::test]
async fn order_payments_lists_every_attempt_with_its_status_and_amount() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/orders/order_9A33XWu170gUtm/payments"))
        .and(basic_auth(KEY_ID, KEY_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "entity": "collection",
            "count": 2,
            "items": [
                payment_entity("pay_failedFirst01", 500, "failed"),
                payment_entity("pay_29QQoUBi66xm2f", 500, "captured"),
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let payments = gateway(&server)
        .order_payments("order_9A33XWu170gUtm")
        .await
        .expect("listed");

    let seen: Vec<_> = payments
        .iter()
        .map(|p| {
            (
                p.payment_id.as_str(),
                p.status.as_str(),
                p.amount,
                p.gateway_order_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "pay_failedFirst01",
                "failed",
                inr(500),
                Some("order_9A33XWu170gUtm")
            ),
            (
                "pay_29QQoUBi66xm2f",
                "captured",
                inr(500),
                Some("order_9A33XWu170gUtm")
            ),
        ]
    );
}

#[tokio::test]
async fn an_order_without_attempts_has_no_payments() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/orders/order_9A33XWu170gUtm/payments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "entity": "collection", "count": 0, "items": []
        })))
        .mount(&server)
        .await;

    let payments = gateway(&server)
        .order_payments("order_9A33XWu170gUtm")
        .await
        .expect("listed");

    assert!(payments.is_empty());
}

#[tokio::test]
async fn listing_an_orders_payments_maps_failures_like_every_other_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/orders/order_unknown0000001/payments"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(razorpay_error("The id provided does not exist", "id")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/orders/order_9A33XWu170gUtm/payments"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    let unknown = gateway
        .order_payments("order_unknown0000001")
        .await
        .expect_err("refused");
    let down = gateway
        .order_payments("order_9A33XWu170gUtm")
        .await
        .expect_err("failed");

    assert!(
        matches!(&unknown, PaymentError::Rejected(d) if d == "The id provided does not exist"),
        "{unknown:?}"
    );
    assert!(matches!(down, PaymentError::Unavailable(_)), "{down:?}");
    assert_no_secret(&format!("{unknown} {down}"));
}

#[tokio::test]
async fn an_order_id_that_could_change_the_url_is_rejected_without_calling_razorpay() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    for order_id in [
        "",
        "order_1/../../payments",
        "order_1?x=1",
        "order 1",
        "order_1#",
    ] {
        let result = gateway.order_payments(order_id).await;
        assert!(
            matches!(result, Err(PaymentError::Rejected(_))),
            "{order_id:?}: {result:?}"
        );
    }
}
