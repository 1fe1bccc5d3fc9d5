//! The catalog and purchases: products, checkout, orders and webhooks as a buyer or Razorpay
//! sends them.

use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

/// A valid product body titled `title` at `price_minor` INR paise, with a unique slug.
#[must_use]
pub fn product_body(title: &str, price_minor: i64) -> Value {
    let stem: String = title
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let suffix = Uuid::new_v4().simple().to_string();
    json!({
        "slug": format!("{stem}-{}", &suffix[..8]),
        "title": title,
        "description": format!("{title}: a digital download."),
        "priceMinor": price_minor,
        "currency": "INR",
        "category": "templates",
        "tags": ["business"],
    })
}

/// A fresh id in Razorpay's style, `<prefix>_` and 14 alphanumerics (for example `pay_`).
#[must_use]
pub fn razorpay_id(prefix: &str) -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &id[..14])
}

/// A Razorpay webhook event body in the documented shape for `event` (`payment.captured`,
/// `payment.failed`, `order.paid`), about a payment `payment_id` of `amount` paise on
/// Razorpay order `order_id`.
#[must_use]
pub fn razorpay_payment_event(event: &str, order_id: &str, payment_id: &str, amount: i64) -> Value {
    let status = if event == "payment.failed" {
        "failed"
    } else {
        "captured"
    };
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
    let mut payload = json!({ "payment": { "entity": payment } });
    let mut contains = vec!["payment"];
    if event == "order.paid" {
        contains.push("order");
        payload["order"] = json!({ "entity": {
            "id": order_id,
            "entity": "order",
            "amount": amount,
            "amount_paid": amount,
            "amount_due": 0,
            "currency": "INR",
            "receipt": null,
            "status": "paid",
            "attempts": 1,
            "notes": [],
            "created_at": 1_700_000_000,
        }});
    }
    json!({
        "entity": "event",
        "account_id": "acc_x",
        "event": event,
        "contains": contains,
        "payload": payload,
        "created_at": 1_700_000_000,
    })
}

impl TestApp {
    /// Creates a product (a DRAFT) with `body` as `token`'s user and returns the 201 body.
    ///
    /// # Panics
    /// If the product is not created.
    pub async fn create_product(&self, token: impl Bearer, body: &Value) -> Value {
        let res = self.post_json("/api/v1/products", body, token).await;
        expect_json(res, 201).await
    }

    /// A PUBLISHED product titled `title` at `price_minor` paise with `bytes` attached as
    /// `<slug>.pdf`, made by `token`'s user (a manager or administrator). Returns the staff
    /// view after publishing.
    ///
    /// # Panics
    /// If any step is refused.
    pub async fn published_product(
        &self,
        token: &Signed,
        title: &str,
        price_minor: i64,
        bytes: &[u8],
    ) -> Value {
        let draft = self
            .create_product(token, &product_body(title, price_minor))
            .await;
        let id = draft["id"].as_str().expect("a product has an id");
        let slug = draft["slug"].as_str().expect("a product has a slug");
        let res = self
            .post_file(
                &format!("/api/v1/products/{id}/asset"),
                "file",
                &format!("{slug}.pdf"),
                "application/pdf",
                bytes,
                token,
            )
            .await;
        expect_json(res, 200).await;
        let res = self
            .post(&format!("/api/v1/products/{id}/publish"), token)
            .await;
        expect_json(res, 200).await
    }

    /// Puts `product` (a product body) in `buyer`'s cart and checks out; returns the 201
    /// checkout session (`orderId`, `razorpayOrderId`, `amount`, ...).
    ///
    /// # Panics
    /// If the product cannot be added or the checkout is refused.
    pub async fn checkout_one(&self, buyer: impl Bearer, product: &Value) -> Value {
        let res = self
            .post_json(
                "/api/v1/cart/items",
                &json!({ "productId": product["id"] }),
                &buyer,
            )
            .await;
        expect_json(res, 200).await;
        let res = self.post("/api/v1/checkout", &buyer).await;
        expect_json(res, 201).await
    }

    /// `GET /api/v1/orders/{order_id}` as `token` and returns the 200 body.
    ///
    /// # Panics
    /// If the order is not answered with 200.
    pub async fn order(&self, order_id: &Value, token: impl Bearer) -> Value {
        let id = order_id.as_str().expect("an order id is a string");
        let res = self.get(&format!("/api/v1/orders/{id}"), token).await;
        expect_json(res, 200).await
    }

    /// `POST /api/v1/webhooks/razorpay` with the raw `body`, `X-Razorpay-Event-Id: event_id`
    /// and, when given, `X-Razorpay-Signature: signature`.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn post_webhook(
        &self,
        body: &str,
        signature: Option<&str>,
        event_id: &str,
    ) -> Response {
        let mut builder = self
            .client
            .post(self.url("/api/v1/webhooks/razorpay"))
            .header("Content-Type", "application/json")
            .header("X-Razorpay-Event-Id", event_id)
            .body(body.to_owned());
        if let Some(signature) = signature {
            builder = builder.header("X-Razorpay-Signature", signature);
        }
        send(builder).await
    }
}
