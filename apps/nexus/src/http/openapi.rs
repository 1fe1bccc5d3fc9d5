//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, customers, enquiries, health, jobs, orders, products, responses, users};

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
        products::handlers::list_products,
        products::handlers::get_product,
        products::handlers::create_product,
        products::handlers::update_product,
        products::handlers::delete_product,
        products::handlers::publish_product,
        products::handlers::archive_product,
        products::handlers::unpublish_product,
        products::handlers::upload_asset,
        products::handlers::asset_upload_link,
        products::handlers::confirm_asset_upload,
        products::handlers::admin_list_products,
        orders::handlers::get_cart,
        orders::handlers::add_cart_item,
        orders::handlers::remove_cart_item,
        orders::handlers::clear_cart,
        orders::handlers::checkout,
        orders::handlers::list_orders,
        orders::handlers::get_order,
        orders::handlers::get_invoice,
        orders::handlers::get_credit_note,
        orders::handlers::refund_order,
        orders::handlers::verify_payment,
        orders::handlers::complete_dev_payment,
        orders::handlers::razorpay_webhook,
        orders::handlers::my_library,
        orders::handlers::download_product,
        orders::handlers::serve_file,
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
        (name = "products", description = "The catalog of digital products"),
        (name = "cart", description = "The buyer's cart"),
        (name = "orders", description = "Checkout, payments, invoices, library and downloads"),
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
