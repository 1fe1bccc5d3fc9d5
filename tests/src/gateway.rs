//! A fake of the Razorpay REST API (wiremock) that records what the app asked and signs what it
//! sends back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

/// The Razorpay key id of a [`RazorpayFake`] (a test-mode id, as the app wants outside prod).
pub const RAZORPAY_KEY_ID: &str = "rzp_test_x";

/// Razorpay's API on a local [`wiremock`] server, for `RAZORPAY_API_BASE`: `POST /v1/orders`,
/// `POST /v1/payments/{id}/refund`, `GET /v1/payments/{id}`, `GET /v1/payments/{id}/refunds`
/// and `GET /v1/orders/{id}/payments` with basic auth (`rzp_test_x` and the key secret)
/// answer like Razorpay, echoing the amount asked for and reporting the payments made known
/// by [`RazorpayFake::report_payment`]; anything else is a 404. Also signs webhooks and
/// checkout callbacks with its secrets.
pub struct RazorpayFake {
    server: wiremock::MockServer,
    api_base: String,
    key_secret: String,
    webhook_secret: String,
    state: Arc<Mutex<FakeState>>,
}

/// What the fake gateway holds: payments it reports and refunds it made.
#[derive(Default)]
pub(crate) struct FakeState {
    /// Payment entities by id, for `GET /v1/payments/{id}`.
    payments: HashMap<String, Value>,
    /// Refund entities made, oldest first, for `GET /v1/payments/{id}/refunds`.
    refunds: Vec<Value>,
    /// Refund requests still to be answered only after this delay (a gateway that made the
    /// refund but whose answer does not arrive in time).
    slow_refunds: Vec<std::time::Duration>,
    /// How many `GET /v1/orders/{id}/payments` requests were answered (whatever the answer).
    order_payment_listings: usize,
    /// How many of the next listings of an order's payments fail with Razorpay's 500.
    failing_listings: usize,
    /// Listings of an order's payments still to be answered only after this delay.
    slow_listings: Vec<std::time::Duration>,
}

impl RazorpayFake {
    /// Starts the fake with fresh secrets.
    pub async fn start() -> Self {
        use wiremock::matchers::{basic_auth, method, path, path_regex};
        let server = wiremock::MockServer::start().await;
        let key_secret = format!("key-secret-{}", Uuid::new_v4().simple());
        let webhook_secret = format!("webhook-secret-{}", Uuid::new_v4().simple());
        wiremock::Mock::given(method("POST"))
            .and(path("/v1/orders"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(CreatedOrders)
            .mount(&server)
            .await;
        let state = Arc::new(Mutex::new(FakeState::default()));
        wiremock::Mock::given(method("POST"))
            .and(path_regex(r"^/v1/payments/pay_[A-Za-z0-9]+/refund$"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(ProcessedRefunds(state.clone()))
            .mount(&server)
            .await;
        wiremock::Mock::given(method("GET"))
            .and(path_regex(r"^/v1/payments/pay_[A-Za-z0-9]+/refunds$"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(ListedRefunds(state.clone()))
            .mount(&server)
            .await;
        wiremock::Mock::given(method("GET"))
            .and(path_regex(r"^/v1/orders/order_[A-Za-z0-9]+/payments$"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(ListedOrderPayments(state.clone()))
            .mount(&server)
            .await;
        wiremock::Mock::given(method("GET"))
            .and(path_regex(r"^/v1/payments/pay_[A-Za-z0-9]+$"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(FetchedPayments(state.clone()))
            .mount(&server)
            .await;
        Self {
            api_base: server.uri(),
            server,
            key_secret,
            webhook_secret,
            state,
        }
    }

    /// Makes the fake report payment `payment_id` of `amount` paise on Razorpay order
    /// `order_id` with `status` (`captured`, `authorized`, `failed`) at `GET /v1/payments/{id}`
    /// and among the order's payments at `GET /v1/orders/{id}/payments`, in Razorpay's
    /// documented payment shape. Nothing is sent to the app (no webhook).
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    pub fn report_payment(&self, payment_id: &str, order_id: &str, amount: i64, status: &str) {
        let payment = json!({
            "id": payment_id,
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": status,
            "order_id": order_id,
            "invoice_id": null,
            "international": false,
            "method": "upi",
            "amount_refunded": 0,
            "refund_status": null,
            "captured": status == "captured",
            "description": null,
            "email": "buyer@example.com",
            "contact": "+919000090000",
            "fee": 1178,
            "tax": 180,
            "error_code": null,
            "error_description": null,
            "created_at": 1_700_000_000,
        });
        self.state
            .lock()
            .expect("fake state")
            .payments
            .insert(payment_id.to_owned(), payment);
    }

    /// The next refund request is made (it shows in the payment's refunds) but answered only
    /// after `delay`: with a shorter `RAZORPAY_TIMEOUT_SECS` the app sees a timeout.
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    pub fn answer_next_refund_late(&self, delay: std::time::Duration) {
        self.state
            .lock()
            .expect("fake state")
            .slow_refunds
            .push(delay);
    }

    /// The next `count` listings of an order's payments (`GET /v1/orders/{id}/payments`)
    /// fail with Razorpay's 500 body.
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    pub fn fail_next_order_payment_listings(&self, count: usize) {
        self.state.lock().expect("fake state").failing_listings = count;
    }

    /// The next listing of an order's payments is made at once but answered only after
    /// `delay` (a slow gateway, while other requests go on).
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    pub fn answer_next_order_payment_listing_late(&self, delay: std::time::Duration) {
        self.state
            .lock()
            .expect("fake state")
            .slow_listings
            .push(delay);
    }

    /// How many times the app listed an order's payments (`GET /v1/orders/{id}/payments`),
    /// whatever the fake answered.
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    #[must_use]
    pub fn order_payment_listings(&self) -> usize {
        self.state
            .lock()
            .expect("fake state")
            .order_payment_listings
    }

    /// The refunds the fake made, oldest first (Razorpay refund entities).
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    #[must_use]
    pub fn refunds_made(&self) -> Vec<Value> {
        self.state.lock().expect("fake state").refunds.clone()
    }

    /// The settings pointing the app at this fake, for [`spawn_app_with`].
    #[must_use]
    pub fn vars(&self) -> [(&str, &str); 4] {
        [
            ("RAZORPAY_KEY_ID", RAZORPAY_KEY_ID),
            ("RAZORPAY_KEY_SECRET", &self.key_secret),
            ("RAZORPAY_WEBHOOK_SECRET", &self.webhook_secret),
            ("RAZORPAY_API_BASE", &self.api_base),
        ]
    }

    /// `X-Razorpay-Signature` of a webhook `body`: hex HMAC-SHA256 with the webhook secret.
    #[must_use]
    pub fn sign_webhook(&self, body: &str) -> String {
        hmac_hex(&self.webhook_secret, body.as_bytes())
    }

    /// The `razorpay_signature` Checkout hands the browser: hex HMAC-SHA256 of
    /// `"<order_id>|<payment_id>"` with the key secret.
    #[must_use]
    pub fn checkout_signature(&self, order_id: &str, payment_id: &str) -> String {
        hmac_hex(
            &self.key_secret,
            format!("{order_id}|{payment_id}").as_bytes(),
        )
    }

    /// Delivers `event` to `app` as Razorpay would: the serialized body, signed, with
    /// `X-Razorpay-Event-Id: event_id`.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn deliver(&self, app: &TestApp, event: &Value, event_id: &str) -> Response {
        let body = event.to_string();
        app.post_webhook(&body, Some(&self.sign_webhook(&body)), event_id)
            .await
    }

    /// The JSON bodies of the requests the fake received on `path`, oldest first.
    ///
    /// # Panics
    /// If recording is off or a body is not JSON.
    pub async fn bodies(&self, path: &str) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .expect("wiremock records requests")
            .iter()
            .filter(|r| r.url.path() == path)
            .map(|r| serde_json::from_slice(&r.body).expect("a JSON request body"))
            .collect()
    }
}

pub(crate) fn hmac_hex(secret: &str, message: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Answers `POST /v1/orders` like Razorpay: a fresh `order_…` id, the amount and receipt asked for.
pub(crate) struct CreatedOrders;

impl wiremock::Respond for CreatedOrders {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let Ok(asked) = serde_json::from_slice::<Value>(&request.body) else {
            return wiremock::ResponseTemplate::new(400);
        };
        wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "id": razorpay_id("order"),
            "entity": "order",
            "amount": asked["amount"],
            "amount_paid": 0,
            "amount_due": asked["amount"],
            "currency": asked["currency"],
            "receipt": asked["receipt"],
            "offer_id": null,
            "status": "created",
            "attempts": 0,
            "notes": [],
            "created_at": 1_700_000_000,
        }))
    }
}

/// Answers `POST /v1/payments/{id}/refund` like Razorpay: a processed refund of the amount
/// asked for, with the receipt asked for, remembered for the payment's refund list.
pub(crate) struct ProcessedRefunds(Arc<Mutex<FakeState>>);

impl wiremock::Respond for ProcessedRefunds {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let Ok(asked) = serde_json::from_slice::<Value>(&request.body) else {
            return wiremock::ResponseTemplate::new(400);
        };
        let payment_id = request.url.path().split('/').nth(3).unwrap_or_default();
        let refund = json!({
            "id": razorpay_id("rfnd"),
            "entity": "refund",
            "amount": asked["amount"],
            "currency": "INR",
            "payment_id": payment_id,
            "notes": asked["notes"],
            "receipt": asked["receipt"],
            "acquirer_data": { "arn": null },
            "created_at": 1_700_000_000,
            "batch_id": null,
            "status": "processed",
            "speed_processed": "normal",
            "speed_requested": "normal",
        });
        let mut state = self.0.lock().expect("fake state");
        state.refunds.push(refund.clone());
        let template = wiremock::ResponseTemplate::new(200).set_body_json(refund);
        if state.slow_refunds.is_empty() {
            template
        } else {
            let delay = state.slow_refunds.remove(0);
            template.set_delay(delay)
        }
    }
}

/// Answers `GET /v1/payments/{id}/refunds` like Razorpay: a collection of the refunds made.
pub(crate) struct ListedRefunds(Arc<Mutex<FakeState>>);

impl wiremock::Respond for ListedRefunds {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let payment_id = request.url.path().split('/').nth(3).unwrap_or_default();
        let items: Vec<Value> = self
            .0
            .lock()
            .expect("fake state")
            .refunds
            .iter()
            .filter(|r| r["payment_id"] == payment_id)
            .cloned()
            .collect();
        wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "entity": "collection",
            "count": items.len(),
            "items": items,
        }))
    }
}

/// Answers `GET /v1/payments/{id}` with a payment made known by
/// [`RazorpayFake::report_payment`], or Razorpay's 400 for an unknown id.
pub(crate) struct FetchedPayments(Arc<Mutex<FakeState>>);

impl wiremock::Respond for FetchedPayments {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let payment_id = request.url.path().split('/').nth(3).unwrap_or_default();
        match self.0.lock().expect("fake state").payments.get(payment_id) {
            Some(payment) => wiremock::ResponseTemplate::new(200).set_body_json(payment),
            None => wiremock::ResponseTemplate::new(400).set_body_json(json!({
                "error": {
                    "code": "BAD_REQUEST_ERROR",
                    "description": "The id provided does not exist",
                    "source": "business",
                    "step": "payment_initiation",
                    "reason": "input_validation_failed",
                    "metadata": {},
                    "field": "id"
                }
            })),
        }
    }
}

/// Answers `GET /v1/orders/{id}/payments` like Razorpay: a collection of the payments made
/// known for that order (none is an empty collection), unless told to fail or be slow.
pub(crate) struct ListedOrderPayments(Arc<Mutex<FakeState>>);

impl wiremock::Respond for ListedOrderPayments {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let order_id = request.url.path().split('/').nth(3).unwrap_or_default();
        let mut state = self.0.lock().expect("fake state");
        state.order_payment_listings += 1;
        if state.failing_listings > 0 {
            state.failing_listings -= 1;
            return wiremock::ResponseTemplate::new(500).set_body_json(json!({
                "error": {
                    "code": "SERVER_ERROR",
                    "description": "The server encountered an error. The incident has been reported to admins.",
                    "source": "NA",
                    "step": "NA",
                    "reason": "NA",
                    "metadata": {}
                }
            }));
        }
        let mut items: Vec<Value> = state
            .payments
            .values()
            .filter(|p| p["order_id"] == order_id)
            .cloned()
            .collect();
        items.sort_by_key(|p| p["id"].as_str().map(str::to_owned));
        let template = wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "entity": "collection",
            "count": items.len(),
            "items": items,
        }));
        if state.slow_listings.is_empty() {
            template
        } else {
            let delay = state.slow_listings.remove(0);
            template.set_delay(delay)
        }
    }
}
