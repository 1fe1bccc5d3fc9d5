//! Customers, enquiries, responses and background work (event deliveries).

use serde_json::{Value, json};

use super::*;

/// A valid customer body with a unique e-mail; `first_name` makes it recognisable.
#[must_use]
pub fn customer_body(first_name: &str) -> Value {
    json!({
        "firstName": first_name,
        "lastName": "Tester",
        "email": unique_email(&first_name.to_lowercase()),
    })
}

/// A valid public enquiry from `name`, with a unique e-mail address.
#[must_use]
pub fn enquiry_body(name: &str) -> Value {
    json!({
        "name": name,
        "email": unique_email(&name.to_lowercase().replace(' ', ".")),
        "subject": format!("Question from {name}"),
        "message": "Hello, I would like to know more about your product.",
    })
}

impl TestApp {
    /// Creates a customer with `body` as `token`'s user and returns the 201 body.
    ///
    /// # Panics
    /// If the customer is not created.
    pub async fn create_customer(&self, token: impl Bearer, body: &Value) -> Value {
        let res = self.post_json("/api/v1/customers", body, token).await;
        expect_json(res, 201).await
    }

    /// Drafts a response with `body` as `token`'s user and returns the 201 body.
    ///
    /// # Panics
    /// If the response is not created.
    pub async fn draft_response(&self, token: impl Bearer, body: &Value) -> Value {
        let res = self.post_json("/api/v1/responses", body, token).await;
        expect_json(res, 201).await
    }

    /// A new customer of `cso` and a response to them drafted and submitted by `cso`, now
    /// awaiting approval: `(customer, response)`.
    ///
    /// # Panics
    /// If any step is refused.
    pub async fn pending_response(&self, cso: &Signed) -> (Value, Value) {
        let customer = self.create_customer(cso, &customer_body("Pending")).await;
        let response = self
            .draft_response(
                cso,
                &json!({
                    "customerId": customer["id"],
                    "subject": "About your account",
                    "content": "Thank you for your patience; here is our answer.",
                }),
            )
            .await;
        let id = response["id"].as_str().expect("a response has an id");
        let res = self
            .post(&format!("/api/v1/responses/{id}/submit"), cso)
            .await;
        (customer, expect_json(res, 200).await)
    }

    /// Sends a public enquiry with `body` (no token) and returns the 201 receipt.
    ///
    /// # Panics
    /// If the enquiry is not accepted.
    pub async fn submit_enquiry(&self, body: &Value) -> Value {
        let res = self.post_json("/api/v1/enquiries", body, NO_TOKEN).await;
        expect_json(res, 201).await
    }

    /// `GET /api/v1/admin/jobs<query>` as `token` (an administrator) and returns the page.
    ///
    /// # Panics
    /// If the list is not answered with 200.
    pub async fn jobs(&self, query: &str, token: impl Bearer) -> Value {
        let res = self.get(&format!("/api/v1/admin/jobs{query}"), token).await;
        expect_json(res, 200).await
    }
}
