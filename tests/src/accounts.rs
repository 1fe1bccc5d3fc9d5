//! Accounts and sign-in: users of each role, registration, e-mail verification and access tokens
//! made outside the app.

use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

/// A role a test can sign in with; mirrors the API's role strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Full control, including user management.
    Admin,
    /// Sees and assigns all customers.
    Manager,
    /// Customer-service officer: sees only customers assigned to them.
    Cso,
    /// Edits content; no CRM or order access.
    Editor,
    /// A buyer with no CRM access.
    Customer,
}

impl Role {
    /// The role as the API spells it (`ADMIN`, `MANAGER`, `CSO`, `EDITOR`, `CUSTOMER`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Manager => "MANAGER",
            Self::Cso => "CSO",
            Self::Editor => "EDITOR",
            Self::Customer => "CUSTOMER",
        }
    }
}

impl Bearer for Signed {
    fn bearer(&self) -> Option<&str> {
        Some(&self.token)
    }
}

/// A signed-in user: their tokens and credentials.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The access token (`access_token`).
    pub token: String,
    /// The refresh token (`refresh_token`).
    pub refresh_token: String,
    /// The user's id.
    pub user_id: String,
    /// The e-mail the user signs in with.
    pub email: String,
    /// The user's password.
    pub password: String,
}

impl Signed {
    pub(crate) fn from_login_body(body: &Value, email: &str, password: &str) -> Self {
        let text = |v: &Value, what: &str| {
            v.as_str()
                .unwrap_or_else(|| panic!("login body has no string {what}: {body}"))
                .to_owned()
        };
        Self {
            token: text(&body["access_token"], "access_token"),
            refresh_token: text(&body["refresh_token"], "refresh_token"),
            user_id: text(&body["user"]["id"], "user.id"),
            email: email.to_owned(),
            password: password.to_owned(),
        }
    }
}

/// An e-mail address no other test or user has, starting with `prefix`.
#[must_use]
pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@example.com", Uuid::new_v4().simple())
}

/// The claims of an access token signed with `secret` (checking the signature, issuer and
/// audience the app uses by default).
///
/// # Panics
/// If the token does not verify with `secret`.
#[must_use]
pub fn access_claims(token: &str, secret: &[u8]) -> Value {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["customer-nexus-hub"]);
    validation.set_audience(&["customer-nexus-hub-api"]);
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret),
        &validation,
    )
    .expect("the token verifies with this key")
    .claims
}

/// An access token for user `sub` with role `role` and session family `sid`, signed with
/// `secret`: what someone holding the key could make.
///
/// # Panics
/// If signing fails.
#[must_use]
pub fn forge_access_token(secret: &[u8], sub: &str, role: &str, sid: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": sub,
        "role": role,
        "sid": sid,
        "jti": Uuid::now_v7(),
        "iat": now,
        "exp": now + 600,
        "iss": "customer-nexus-hub",
        "aud": "customer-nexus-hub-api",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("signs")
}

impl TestApp {
    /// Logs in with `email` and `password` and returns the session.
    ///
    /// # Panics
    /// If the login is not answered with 200 and a login body.
    pub async fn login(&self, email: &str, password: &str) -> Signed {
        let res = self
            .post_json(
                "/api/v1/auth/login",
                &json!({ "email": email, "password": password }),
                NO_TOKEN,
            )
            .await;
        let body = expect_json(res, 200).await;
        Signed::from_login_body(&body, email, password)
    }

    /// Logs in with `email` and `password`, sending the extra request `headers` (a
    /// `User-Agent`, an `X-Forwarded-For`), and returns the session.
    ///
    /// # Panics
    /// If the login is not answered with 200 and a login body.
    pub async fn login_with(
        &self,
        email: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> Signed {
        let mut request = self.request(reqwest::Method::POST, "/api/v1/auth/login", NO_TOKEN);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let res = request
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("the request reaches the app");
        let body = expect_json(res, 200).await;
        Signed::from_login_body(&body, email, password)
    }

    /// Signs in as the bootstrapped administrator (a new session each call).
    ///
    /// # Panics
    /// If the administrator cannot log in.
    pub async fn admin(&self) -> Signed {
        self.login(&self.admin_email, &self.admin_password).await
    }

    /// An access token of the bootstrapped administrator.
    ///
    /// # Panics
    /// If the administrator cannot log in.
    pub async fn admin_token(&self) -> String {
        self.admin().await.token
    }

    /// Creates a new user with `role` (staff through `POST /api/v1/users` by the
    /// administrator, customers through `/auth/register`) and logs them in. Customers'
    /// addresses are unverified ([`TestApp::verify_email`] verifies one).
    ///
    /// # Panics
    /// If the user cannot be created or cannot log in.
    pub async fn sign_in_as(&self, role: Role) -> Signed {
        let email = unique_email(&role.as_str().to_lowercase());
        let password = format!("Pw-{}", Uuid::new_v4().simple());
        let mut body = json!({
            "email": email,
            "password": password,
            "firstName": "Test",
            "lastName": role.as_str(),
        });
        let res = if role == Role::Customer {
            self.post_json("/api/v1/auth/register", &body, NO_TOKEN)
                .await
        } else {
            body["role"] = json!(role.as_str());
            let admin = self.admin_token().await;
            self.post_json("/api/v1/users", &body, &admin).await
        };
        // Registration answers 202 (the same for a taken address); staff creation 201.
        expect_json(res, if role == Role::Customer { 202 } else { 201 }).await;
        self.login(&email, &password).await
    }

    /// Registers a customer called `first_name last_name` and signs them in.
    ///
    /// # Panics
    /// If the registration or the login is refused.
    pub async fn register_customer(&self, first_name: &str, last_name: &str) -> Signed {
        let email = unique_email(&first_name.to_lowercase());
        let password = format!("Pw-{}", Uuid::new_v4().simple());
        let body = json!({
            "email": email,
            "password": password,
            "firstName": first_name,
            "lastName": last_name,
        });
        let res = self
            .post_json("/api/v1/auth/register", &body, NO_TOKEN)
            .await;
        expect_json(res, 202).await;
        self.login(&email, &password).await
    }

    /// `POST /api/v1/auth/register` for `email` with `password`.
    pub async fn register_at(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/register",
            &json!({ "email": email, "password": password, "firstName": "Ada", "lastName": "Lovelace" }),
            NO_TOKEN,
        )
        .await
    }

    /// Verifies `user`'s address the way its owner would: asks for a VERIFY_EMAIL code, reads
    /// it from the mail the app wrote to its outbox (`<DATA_DIR>/outbox`), and checks it.
    ///
    /// # Panics
    /// If no code arrives or the check is refused.
    pub async fn verify_email(&self, user: &Signed) {
        let outbox = self.data_dir().join("outbox");
        let before = eml_files(&outbox);
        let res = self
            .post_json(
                "/api/v1/auth/otp/request",
                &json!({ "email": user.email, "purpose": "VERIFY_EMAIL" }),
                NO_TOKEN,
            )
            .await;
        expect_json(res, 202).await;
        let code = eventually("the verification code in the outbox", async || {
            eml_files(&outbox)
                .into_iter()
                .filter(|path| !before.contains(path))
                .filter_map(|path| std::fs::read_to_string(path).ok())
                .filter(|text| text.contains(&user.email))
                .find_map(|text| {
                    text.lines()
                        .map(str::trim)
                        .find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()))
                        .map(str::to_owned)
                })
        })
        .await;
        let res = self
            .post_json(
                "/api/v1/auth/otp/verify",
                &json!({ "email": user.email, "code": code, "purpose": "VERIFY_EMAIL" }),
                NO_TOKEN,
            )
            .await;
        let body = expect_json(res, 200).await;
        assert_eq!(body["verified"], true, "{body}");
    }
}
