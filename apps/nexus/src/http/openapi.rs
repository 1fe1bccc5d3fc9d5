//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, customers, health, users};

/// The API description served at `/api-docs/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Customer Nexus Hub API", description = "CRM, approvals, marketplace and content for a business selling digital resources."),
    paths(
        auth::handlers::register, auth::handlers::login, auth::handlers::refresh, auth::handlers::logout, auth::handlers::me,
        users::handlers::update_me, users::handlers::change_password, users::handlers::list_users, users::handlers::create_user,
        users::handlers::get_user, users::handlers::update_user,
        customers::handlers::list_customers, customers::handlers::create_customer, customers::handlers::get_customer,
        customers::handlers::update_customer, customers::handlers::delete_customer, customers::handlers::assign_customer,
        health::live, health::ready,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-up, sign-in and sessions"),
        (name = "users", description = "Profiles and user administration"),
        (name = "customers", description = "The customer CRM"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

/// Adds the `bearer` JWT security scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
