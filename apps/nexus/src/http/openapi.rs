//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, customers, enquiries, health, jobs, responses, users};

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
        auth::handlers::request_otp,
        auth::handlers::verify_otp,
        enquiries::handlers::create_enquiry,
        enquiries::handlers::list_enquiries,
        enquiries::handlers::get_enquiry,
        enquiries::handlers::update_enquiry,
        enquiries::handlers::my_enquiries,
        responses::handlers::create_response,
        responses::handlers::list_responses,
        responses::handlers::get_response,
        responses::handlers::update_response,
        responses::handlers::submit_response,
        responses::handlers::approve_response,
        responses::handlers::reject_response,
        responses::handlers::response_history,
        jobs::list_jobs,
        jobs::retry_job,
        health::live, health::ready,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-up, sign-in and sessions"),
        (name = "users", description = "Profiles and user administration"),
        (name = "customers", description = "The customer CRM"),
        (name = "enquiries", description = "Questions from the public and customers"),
        (name = "responses", description = "Staff responses and their four-eyes approval"),
        (name = "jobs", description = "The durable job queue"),
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
