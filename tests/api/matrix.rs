//! The route × role matrix: every operation of the app's own OpenAPI document, called by
//! every kind of caller on records they own and records they do not, answers the status
//! written for it once in [`ROUTES`].
//!
//! - The operations come from `GET /api-docs/openapi.json` (generated from the code). An
//!   operation without a row in [`ROUTES`] fails the test, listed by name; so does a row for
//!   an operation the document no longer has.
//! - The document is checked against the routes really mounted: every documented operation
//!   answers something other than the `route_not_found` fallback, and every
//!   `web::resource(...)` registered in `apps/nexus/src/http` is documented (the list of
//!   undocumented routes must be empty, bar the Swagger UI redirect).
//! - Callers: anonymous, CUSTOMER, another CUSTOMER, CSO, another CSO, EDITOR, MANAGER,
//!   ADMIN. Shared
//!   records belong to the first CUSTOMER (orders, library, enquiries) or the first CSO
//!   (customers, enquiries, responses), so "another" is the not-owned case.
//! - Requests carry valid bodies, and state-changing calls get a fresh record per cell, so
//!   a status says who may act, not what the data looked like.
//! - A change of policy that is still in flight can list its cells, with today's status, in
//!   [`AWAITING`]; the entry must go once the change lands (the test says so).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use nexus_tests::{
    NO_TOKEN, PNG, Role, Signed, TestApp, customer_body, enquiry_body, eventually, expect_json,
    product_body, spawn_app_with, unique_email,
};
use reqwest::Method;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use uuid::Uuid;

/// Who calls, in the order of each row's statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Customer,
    OtherCustomer,
    Cso,
    OtherCso,
    Editor,
    Manager,
    Admin,
}

const CALLERS: [Who; 8] = [
    Who::Anonymous,
    Who::Customer,
    Who::OtherCustomer,
    Who::Cso,
    Who::OtherCso,
    Who::Editor,
    Who::Manager,
    Who::Admin,
];

/// One operation and the status each caller gets, in the order of [`CALLERS`]:
/// anonymous, CUSTOMER, other CUSTOMER, CSO, other CSO, EDITOR, MANAGER, ADMIN.
type Row = (&'static str, &'static str, [u16; 8]);

/// The access policy, one row per operation of the OpenAPI document.
#[rustfmt::skip]
const ROUTES: &[Row] = &[
    //                                                 anon cust  cust2 cso  cso2 edit mgr  admin
    // Probes and the public catalog.
    ("get",    "/health/live",                         [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/health/ready",                        [200, 200, 200, 200, 200, 200, 200, 200]),
    // Metrics open with METRICS_TOKEN only (set for this matrix), never with a user's JWT;
    // without a token configured the public port answers 404 (tests/api/observability.rs).
    ("get",    "/metrics",                             [401, 401, 401, 401, 401, 401, 401, 401]),
    ("get",    "/api/v1/products",                     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/products/{id}",                [200, 200, 200, 200, 200, 200, 200, 200]),
    // What search engines read.
    ("get",    "/robots.txt",                          [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/sitemap.xml",                         [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/sitemaps/{file}",                     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/feed.xml",                            [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/atom.xml",                            [200, 200, 200, 200, 200, 200, 200, 200]),
    // Sign-up and sessions: public, or the caller's own.
    // Registration answers 202 alike for new and taken addresses (a fresh one is used here).
    ("post",   "/api/v1/auth/register",                [202, 202, 202, 202, 202, 202, 202, 202]),
    ("post",   "/api/v1/auth/login",                   [200, 200, 200, 200, 200, 200, 200, 200]),
    ("post",   "/api/v1/auth/refresh",                 [200, 200, 200, 200, 200, 200, 200, 200]),
    ("post",   "/api/v1/auth/logout",                  [401, 204, 204, 204, 204, 204, 204, 204]),
    ("get",    "/api/v1/auth/me",                      [401, 200, 200, 200, 200, 200, 200, 200]),
    ("post",   "/api/v1/auth/otp/request",             [202, 202, 202, 202, 202, 202, 202, 202]),
    ("post",   "/api/v1/auth/otp/verify",              [400, 400, 400, 400, 400, 400, 400, 400]),
    // Password reset: a link is asked for by address (202 alike) and used by its token alone.
    ("post",   "/api/v1/auth/password/forgot",         [202, 202, 202, 202, 202, 202, 202, 202]),
    ("post",   "/api/v1/auth/password/reset",          [400, 400, 400, 400, 400, 400, 400, 400]),
    // Staff invitations: an ADMIN invites; the invitee accepts by the link's token alone.
    ("post",   "/api/v1/auth/invites/accept",          [400, 400, 400, 400, 400, 400, 400, 400]),
    ("patch",  "/api/v1/users/me",                     [401, 200, 200, 200, 200, 200, 200, 200]),
    ("post",   "/api/v1/users/me/password",            [401, 204, 204, 204, 204, 204, 204, 204]),
    // One's own sessions; an id that is not one of mine is 404. Ending the others keeps
    // the caller's own session (the one the matrix uses).
    ("get",    "/api/v1/users/me/sessions",            [401, 200, 200, 200, 200, 200, 200, 200]),
    ("delete", "/api/v1/users/me/sessions/{id}",       [401, 404, 404, 404, 404, 404, 404, 404]),
    ("delete", "/api/v1/users/me/sessions",            [401, 204, 204, 204, 204, 204, 204, 204]),
    // Two-factor sign-in: anyone signed in may start enrolling (with their password); a
    // malformed first code is 400; nobody here has it on, so turning it off is 409. A made-up
    // challenge is 400 for everyone.
    ("post",   "/api/v1/users/me/totp",                [401, 200, 200, 200, 200, 200, 200, 200]),
    ("post",   "/api/v1/users/me/totp/confirm",        [401, 400, 400, 400, 400, 400, 400, 400]),
    ("delete", "/api/v1/users/me/totp",                [401, 409, 409, 409, 409, 409, 409, 409]),
    ("post",   "/api/v1/auth/login/totp",              [400, 400, 400, 400, 400, 400, 400, 400]),
    // Sign-in with GitHub (configured for this matrix; the start needs no network): anyone
    // may start; a callback with a state this browser never started is 400 invalid_state.
    ("get",    "/api/v1/auth/oauth/{provider}/start",  [302, 302, 302, 302, 302, 302, 302, 302]),
    ("get",    "/api/v1/auth/oauth/{provider}/callback", [400, 400, 400, 400, 400, 400, 400, 400]),
    // One's own linked identities; nobody here has a GitHub account linked (404).
    ("get",    "/api/v1/users/me/identities",          [401, 200, 200, 200, 200, 200, 200, 200]),
    ("delete", "/api/v1/users/me/identities/{provider}", [401, 404, 404, 404, 404, 404, 404, 404]),
    // An e-mail change is asked for with one's password and confirmed by the link's token.
    ("post",   "/api/v1/users/me/email",               [401, 202, 202, 202, 202, 202, 202, 202]),
    ("post",   "/api/v1/users/me/email/confirm",       [401, 400, 400, 400, 400, 400, 400, 400]),
    ("get",    "/api/v1/users/me/export",              [401, 200, 200, 200, 200, 200, 200, 200]),
    // Customers erase a fresh account of their own per cell; staff are refused (409).
    ("post",   "/api/v1/users/me/erase",               [401, 204, 204, 409, 409, 409, 409, 409]),
    // User administration: ADMIN only.
    ("get",    "/api/v1/users",                        [401, 403, 403, 403, 403, 403, 403, 200]),
    ("post",   "/api/v1/users",                        [401, 403, 403, 403, 403, 403, 403, 201]),
    ("post",   "/api/v1/users/invites",                [401, 403, 403, 403, 403, 403, 403, 201]),
    ("post",   "/api/v1/users/{id}/invite",            [401, 403, 403, 403, 403, 403, 403, 202]),
    ("get",    "/api/v1/users/{id}",                   [401, 403, 403, 403, 403, 403, 403, 200]),
    ("patch",  "/api/v1/users/{id}",                   [401, 403, 403, 403, 403, 403, 403, 200]),
    // The CRM: staff only; a CSO sees the customers assigned to them (another CSO: 404).
    ("get",    "/api/v1/customers",                    [401, 403, 403, 200, 200, 403, 200, 200]),
    ("post",   "/api/v1/customers",                    [401, 403, 403, 201, 201, 403, 201, 201]),
    ("get",    "/api/v1/customers/{id}",               [401, 403, 403, 200, 404, 403, 200, 200]),
    ("patch",  "/api/v1/customers/{id}",               [401, 403, 403, 200, 404, 403, 200, 200]),
    ("delete", "/api/v1/customers/{id}",               [401, 403, 403, 403, 404, 403, 204, 204]),
    ("post",   "/api/v1/customers/{id}/assign",        [401, 403, 403, 403, 403, 403, 200, 200]),
    // Linking a buyer account: scoped like customer updates.
    ("put",    "/api/v1/customers/{id}/account",       [401, 403, 403, 200, 404, 403, 200, 200]),
    ("delete", "/api/v1/customers/{id}/account",       [401, 403, 403, 200, 404, 403, 200, 200]),
    // Notes: any staff member who sees the customer.
    ("get",    "/api/v1/customers/{id}/notes",         [401, 403, 403, 200, 404, 403, 200, 200]),
    ("post",   "/api/v1/customers/{id}/notes",         [401, 403, 403, 201, 404, 403, 201, 201]),
    ("get",    "/api/v1/customers/{id}/timeline",      [401, 403, 403, 200, 404, 403, 200, 200]),
    // Enquiries: anyone may ask; staff work them; a customer reads their own.
    ("post",   "/api/v1/enquiries",                    [201, 201, 201, 201, 201, 201, 201, 201]),
    ("get",    "/api/v1/enquiries",                    [401, 403, 403, 200, 200, 403, 200, 200]),
    ("get",    "/api/v1/enquiries/{id}",               [401, 403, 403, 200, 404, 403, 200, 200]),
    ("patch",  "/api/v1/enquiries/{id}",               [401, 403, 403, 200, 404, 403, 200, 200]),
    // Needs a verified e-mail: both customers here have verified theirs (an unverified
    // account's 403 is `enquiries::registering_someone_elses_address_*`).
    ("get",    "/api/v1/me/enquiries",                 [401, 200, 200, 403, 403, 403, 403, 403]),
    // Responses: drafted by the customer's CSO, approved by someone else senior.
    ("get",    "/api/v1/responses",                    [401, 403, 403, 200, 200, 403, 200, 200]),
    ("post",   "/api/v1/responses",                    [401, 403, 403, 201, 422, 403, 201, 201]),
    ("get",    "/api/v1/responses/{id}",               [401, 403, 403, 200, 404, 403, 200, 200]),
    ("patch",  "/api/v1/responses/{id}",               [401, 403, 403, 200, 404, 403, 403, 403]),
    ("post",   "/api/v1/responses/{id}/submit",        [401, 403, 403, 200, 404, 403, 403, 403]),
    ("post",   "/api/v1/responses/{id}/approve",       [401, 403, 403, 403, 404, 403, 200, 200]),
    ("post",   "/api/v1/responses/{id}/reject",        [401, 403, 403, 403, 404, 403, 200, 200]),
    ("get",    "/api/v1/responses/{id}/history",       [401, 403, 403, 200, 404, 403, 200, 200]),
    // Background work (event deliveries): ADMIN only (the delivery is done, so a retry is a conflict).
    ("get",    "/api/v1/admin/jobs",                   [401, 403, 403, 403, 403, 403, 403, 200]),
    ("get",    "/api/v1/admin/audit",                  [401, 403, 403, 403, 403, 403, 403, 200]),
    ("post",   "/api/v1/admin/jobs/{id}/retry",        [401, 403, 403, 403, 403, 403, 403, 409]),
    // Catalog management: MANAGER and ADMIN. Local storage has no direct uploads (409), and
    // confirming a key nothing was uploaded to is 404, both after the role check.
    ("get",    "/api/v1/admin/products",               [401, 403, 403, 403, 403, 403, 200, 200]),
    ("post",   "/api/v1/products",                     [401, 403, 403, 403, 403, 403, 201, 201]),
    ("patch",  "/api/v1/products/{id}",                [401, 403, 403, 403, 403, 403, 200, 200]),
    ("delete", "/api/v1/products/{id}",                [401, 403, 403, 403, 403, 403, 204, 204]),
    ("post",   "/api/v1/products/{id}/publish",        [401, 403, 403, 403, 403, 403, 200, 200]),
    ("post",   "/api/v1/products/{id}/archive",        [401, 403, 403, 403, 403, 403, 200, 200]),
    ("post",   "/api/v1/products/{id}/unpublish",      [401, 403, 403, 403, 403, 403, 200, 200]),
    ("post",   "/api/v1/products/{id}/asset",          [401, 403, 403, 403, 403, 403, 200, 200]),
    ("get",    "/api/v1/products/{id}/cover",          [302, 302, 302, 302, 302, 302, 302, 302]),
    ("post",   "/api/v1/products/{id}/cover",          [401, 403, 403, 403, 403, 403, 200, 200]),
    ("post",   "/api/v1/products/{id}/asset/upload-link", [401, 403, 403, 403, 403, 403, 409, 409]),
    ("post",   "/api/v1/products/{id}/asset/confirm",  [401, 403, 403, 403, 403, 403, 404, 404]),
    // Cart, checkout and payments: the buyer's own.
    ("get",    "/api/v1/cart",                         [401, 200, 200, 200, 200, 200, 200, 200]),
    ("delete", "/api/v1/cart",                         [401, 204, 204, 204, 204, 204, 204, 204]),
    ("post",   "/api/v1/cart/items",                   [401, 200, 200, 200, 200, 200, 200, 200]),
    ("delete", "/api/v1/cart/items/{product_id}",      [401, 200, 200, 200, 200, 200, 200, 200]),
    ("post",   "/api/v1/checkout",                     [401, 201, 201, 201, 201, 201, 201, 201]),
    ("post",   "/api/v1/payments/dev/complete",        [401, 200, 404, 404, 404, 404, 404, 404]),
    ("post",   "/api/v1/payments/verify",              [401, 400, 400, 400, 400, 400, 400, 400]),
    ("post",   "/api/v1/webhooks/razorpay",            [400, 400, 400, 400, 400, 400, 400, 400]),
    // Orders, invoices and downloads: the buyer's own (another's: 404); ADMIN refunds.
    // Orders, invoices and credit notes: the buyer, MANAGER and ADMIN; a CSO only their own.
    ("get",    "/api/v1/orders",                       [401, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/orders/{id}",                  [401, 200, 404, 404, 404, 404, 200, 200]),
    ("get",    "/api/v1/orders/{id}/invoice",          [401, 303, 404, 404, 404, 404, 303, 303]),
    ("get",    "/api/v1/orders/{id}/refunds/{refund_id}/credit-note", [401, 303, 404, 404, 404, 404, 303, 303]),
    ("post",   "/api/v1/orders/{id}/refund",           [401, 403, 403, 403, 403, 403, 403, 200]),
    ("get",    "/api/v1/me/library",                   [401, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/products/{id}/download",       [401, 200, 404, 404, 404, 404, 404, 404]),
    // Dashboards: one per role (a CSO's holds only their own figures); EDITOR has none.
    ("get",    "/api/v1/me/dashboard",                 [401, 200, 200, 200, 200, 403, 200, 200]),
    // A signed link is the credential, whoever holds it.
    ("get",    "/api/v1/files/{key}",                  [200, 200, 200, 200, 200, 200, 200, 200]),
    // Page metrics: anyone sends events; EDITOR, MANAGER and ADMIN read the reports.
    ("post",   "/api/v1/metrics/events",               [202, 202, 202, 202, 202, 202, 202, 202]),
    ("get",    "/api/v1/analytics/pages",              [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/analytics/referrers",          [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/analytics/trend",              [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/analytics/conversions",        [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/analytics/campaigns",          [401, 403, 403, 403, 403, 200, 200, 200]),
    // Site feedback: anyone sends it, moderators (EDITOR, MANAGER, ADMIN) publish or hide it.
    ("get",    "/api/v1/feedback",                     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("post",   "/api/v1/feedback",                     [202, 202, 202, 202, 202, 202, 202, 202]),
    ("get",    "/api/v1/admin/feedback",               [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/feedback/{id}/publish",  [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/feedback/{id}/hide",     [401, 403, 403, 403, 403, 200, 200, 200]),
    // Reviews: only an owner of the product writes one (others: 403 not_owner); one's own
    // review only is deleted (none of one's own: 404).
    ("put",    "/api/v1/products/{id}/review",         [401, 200, 403, 403, 403, 403, 403, 403]),
    ("delete", "/api/v1/products/{id}/review",         [401, 204, 404, 404, 404, 404, 404, 404]),
    ("get",    "/api/v1/products/{id}/reviews",        [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/me/reviews",                   [401, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/admin/reviews",                [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/reviews/{id}/publish",   [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/reviews/{id}/hide",      [401, 403, 403, 403, 403, 200, 200, 200]),
    // What a customer said, seen as the customer is.
    ("get",    "/api/v1/customers/{id}/feedback",      [401, 403, 403, 200, 404, 403, 200, 200]),
    // CMS pages: the published snapshot and a preview link are public; staff routes need
    // the content permissions (EDITOR, MANAGER, ADMIN).
    ("get",    "/api/v1/content/pages/{slug}",         [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/content/preview/{token}",      [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/admin/pages",                  [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/pages",                  [401, 403, 403, 403, 403, 201, 201, 201]),
    ("get",    "/api/v1/admin/pages/{id}",             [401, 403, 403, 403, 403, 200, 200, 200]),
    ("patch",  "/api/v1/admin/pages/{id}",             [401, 403, 403, 403, 403, 200, 200, 200]),
    ("delete", "/api/v1/admin/pages/{id}",             [401, 403, 403, 403, 403, 204, 204, 204]),
    ("get",    "/api/v1/admin/pages/{id}/versions",    [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/admin/pages/{id}/versions/{number}", [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/pages/{id}/versions/{number}/restore", [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/admin/pages/{id}/diff",        [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/pages/{id}/publish",     [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/pages/{id}/unpublish",   [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/pages/{id}/schedule",    [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/pages/{id}/preview",     [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/admin/content/audit",          [401, 403, 403, 403, 403, 200, 200, 200]),
    // SEO: the content roles.
    ("get",    "/api/v1/seo/report",                   [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/seo/items/{kind}/{id}",        [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/seo/scan",                     [401, 403, 403, 403, 403, 202, 202, 202]),
    // Redirect rules: the content and SEO editors (EDITOR, MANAGER, ADMIN).
    ("get",    "/api/v1/admin/redirects",              [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/redirects",              [401, 403, 403, 403, 403, 201, 201, 201]),
    ("get",    "/api/v1/admin/redirects/{id}",         [401, 403, 403, 403, 403, 200, 200, 200]),
    ("patch",  "/api/v1/admin/redirects/{id}",         [401, 403, 403, 403, 403, 200, 200, 200]),
    ("delete", "/api/v1/admin/redirects/{id}",         [401, 403, 403, 403, 403, 204, 204, 204]),
    // Team members: the visible list and their photos are public; staff routes need
    // content.manage (EDITOR, MANAGER, ADMIN).
    ("get",    "/api/v1/content/team",                 [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/content/team/{id}/photo",      [302, 302, 302, 302, 302, 302, 302, 302]),
    ("get",    "/api/v1/admin/team",                   [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/team",                   [401, 403, 403, 403, 403, 201, 201, 201]),
    ("post",   "/api/v1/admin/team/reorder",           [401, 403, 403, 403, 403, 200, 200, 200]),
    ("get",    "/api/v1/admin/team/{id}",              [401, 403, 403, 403, 403, 200, 200, 200]),
    ("patch",  "/api/v1/admin/team/{id}",              [401, 403, 403, 403, 403, 200, 200, 200]),
    ("delete", "/api/v1/admin/team/{id}",              [401, 403, 403, 403, 403, 204, 204, 204]),
    ("post",   "/api/v1/admin/team/{id}/photo",        [401, 403, 403, 403, 403, 200, 200, 200]),
    // The blog: published posts, their covers and old slugs are public; staff routes need
    // the content permissions (EDITOR, MANAGER, ADMIN).
    ("get",    "/api/v1/content/posts",                [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/content/posts/{slug}",         [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/content/posts/{id}/cover",     [302, 302, 302, 302, 302, 302, 302, 302]),
    // The site's Organization, for anyone.
    ("get",    "/api/v1/content/site",                 [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",    "/api/v1/admin/posts",                  [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/posts",                  [401, 403, 403, 403, 403, 201, 201, 201]),
    ("get",    "/api/v1/admin/posts/{id}",             [401, 403, 403, 403, 403, 200, 200, 200]),
    ("patch",  "/api/v1/admin/posts/{id}",             [401, 403, 403, 403, 403, 200, 200, 200]),
    ("delete", "/api/v1/admin/posts/{id}",             [401, 403, 403, 403, 403, 204, 204, 204]),
    ("post",   "/api/v1/admin/posts/{id}/publish",     [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/posts/{id}/unpublish",   [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/posts/{id}/schedule",    [401, 403, 403, 403, 403, 200, 200, 200]),
    ("post",   "/api/v1/admin/posts/{id}/cover",       [401, 403, 403, 403, 403, 200, 200, 200]),
];

/// Cells where today's code still answers differently from the row above, because the
/// change that brings the intended policy is in flight on another branch: `(method, path,
/// caller, status answered today)`. Each is asserted as it is today, so the matrix stays
/// green, and an entry fails as soon as the cell answers as intended: then delete it.
const AWAITING: &[(&str, &str, Who, u16)] = &[];

/// `GET /docs` only redirects to the Swagger UI: the one route the document leaves out.
const UNDOCUMENTED_ALLOWED: &[&str] = &["GET /docs"];

/// The records the shared cells use, and the callers.
struct World {
    app: TestApp,
    callers: Vec<Option<Signed>>,
    manager: Signed,
    /// The CSO who owns the CRM records (the one enquiries are routed to first).
    cso: Signed,
    /// A customer record assigned to `cso`.
    crm_customer: Value,
    /// An enquiry from the first customer, assigned to `cso`.
    enquiry: Value,
    /// A draft response by `cso` to `crm_customer`.
    response: Value,
    /// Published, bought and paid by the first customer.
    bought: Value,
    /// Published, never bought: goes in and out of carts.
    shelf: Value,
    /// A draft, for the calls that change nothing for callers allowed to make them.
    draft: Value,
    /// The first customer's paid order of `bought`, with its invoice rendered, partly
    /// refunded with its credit note rendered.
    order: Value,
    /// The refund of `order`.
    refund_id: String,
    /// A signed download link of `bought`.
    file_link: String,
    /// A finished job.
    job_id: String,
}

/// An HTTP request of one cell.
enum Body {
    None,
    Json(Value),
    File,
    Image,
}

struct Call {
    path: String,
    body: Body,
    /// A token to send instead of the caller's (a fresh session, for calls that end one).
    token: Option<Option<String>>,
}

impl Call {
    fn to(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            body: Body::None,
            token: None,
        }
    }

    fn json(path: impl Into<String>, body: Value) -> Self {
        Self {
            path: path.into(),
            body: Body::Json(body),
            token: None,
        }
    }
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}"))
}

impl World {
    async fn build() -> Self {
        let app = spawn_app_with(&[
            ("ENQUIRY_RATE_LIMIT", "100000"),
            ("OTP_RATE_LIMIT", "100000"),
            ("OTP_ADDRESS_RATE_LIMIT", "100000"),
            ("AUTH_RATE_LIMIT", "100000"),
            ("ORDER_PENDING_LIMIT", "1000"),
            ("CHECKOUT_RATE_LIMIT", "100000"),
            ("LOGIN_MAX_FAILURES", "1000"),
            ("LOGIN_ACCOUNT_MAX_FAILURES", "1000"),
            ("WORKER_POLL_MS", "50"),
            ("METRICS_TOKEN", "matrix-metrics-token-0123456789"),
            ("FEEDBACK_RATE_LIMIT", "100000"),
            ("GITHUB_CLIENT_ID", "matrix-client"),
            ("GITHUB_CLIENT_SECRET", "matrix-secret"),
        ])
        .await;
        let admin = app.admin().await;
        let manager = app.sign_in_as(Role::Manager).await;
        let cso_a = app.sign_in_as(Role::Cso).await;
        let cso_b = app.sign_in_as(Role::Cso).await;
        let editor = app.sign_in_as(Role::Editor).await;
        let customer = app.register_customer("Cara", "Buyer").await;
        let other_customer = app.register_customer("Otto", "Buyer").await;
        // Both have verified their address (by one-time code in real life; the OTP tests
        // cover that), as reading one's own enquiries requires.
        mark_verified(&app, &[&customer, &other_customer]).await;

        // An enquiry goes to the officer of the customer record with the sender's address.
        let cso = cso_a;
        let other_cso = cso_b;
        let mut record = customer_body("Cara");
        record["email"] = json!(customer.email);
        record["assignedTo"] = json!(cso.user_id);
        app.create_customer(&manager, &record).await;
        let mut body = enquiry_body("Cara Buyer");
        body["email"] = json!(customer.email);
        let receipt = app.submit_enquiry(&body).await;
        let enquiry = expect_json(
            app.get(&format!("/api/v1/enquiries/{}", id(&receipt)), &manager)
                .await,
            200,
        )
        .await;
        assert_eq!(enquiry["assignedTo"], json!(cso.user_id), "{enquiry}");

        let crm_customer = crm_customer_of(&app, &manager, &cso).await;
        let response = app
            .draft_response(
                &cso,
                &json!({
                    "customerId": crm_customer["id"],
                    "subject": "About your account",
                    "content": "Thank you for writing; here is our answer.",
                }),
            )
            .await;

        let bought = app
            .published_product(&manager, "Bought guide", 9_900, b"%PDF-1.4 bought")
            .await;
        let shelf = app
            .published_product(&manager, "Shelf guide", 4_900, b"%PDF-1.4 shelf")
            .await;
        let draft = app
            .create_product(&manager, &product_body("Draft guide", 1_000))
            .await;
        let order = paid_order(&app, &customer, &bought).await;
        let order_path = format!("/api/v1/orders/{}", id(&order));
        nexus_tests::eventually("the invoice to be rendered", async || {
            let res = app.get(&format!("{order_path}/invoice"), &customer).await;
            (res.status() == 303).then_some(())
        })
        .await;
        let res = app
            .post_json(
                &format!("{order_path}/refund"),
                &json!({ "amountMinor": 100, "reason": "Goodwill" }),
                &admin,
            )
            .await;
        let refunded = expect_json(res, 200).await;
        let refund_id = refunded["refunds"][0]["refundId"]
            .as_str()
            .unwrap_or_else(|| panic!("a counted refund: {refunded}"))
            .to_owned();
        nexus_tests::eventually("the credit note to be rendered", async || {
            let res = app
                .get(
                    &format!("{order_path}/refunds/{refund_id}/credit-note"),
                    &customer,
                )
                .await;
            (res.status() == 303).then_some(())
        })
        .await;
        let res = app
            .get(
                &format!("/api/v1/products/{}/download", id(&bought)),
                &customer,
            )
            .await;
        let file_link = expect_json(res, 200).await["url"]
            .as_str()
            .expect("a download link")
            .to_owned();
        let jobs = app.jobs("", &admin).await;
        let job_id = jobs["data"]
            .as_array()
            .and_then(|all| all.iter().find(|j| j["state"] == "DONE"))
            .unwrap_or_else(|| panic!("no finished job: {jobs}"))["id"]
            .as_str()
            .expect("a job id")
            .to_owned();

        let callers = vec![
            None,
            Some(customer),
            Some(other_customer),
            Some(cso.clone()),
            Some(other_cso),
            Some(editor),
            Some(manager.clone()),
            Some(admin),
        ];
        Self {
            app,
            callers,
            manager,
            cso,
            crm_customer,
            enquiry,
            response,
            bought,
            shelf,
            draft,
            order,
            refund_id,
            file_link,
            job_id,
        }
    }

    fn caller(&self, who: Who) -> Option<&Signed> {
        let at = CALLERS
            .iter()
            .position(|w| *w == who)
            .expect("every caller has a place");
        self.callers[at].as_ref()
    }

    fn customer(&self) -> &Signed {
        self.caller(Who::Customer)
            .expect("the customer is signed in")
    }

    /// The request of one cell, making the fresh records it needs.
    async fn call(&self, method: &str, template: &str, who: Who) -> Call {
        let app = &self.app;
        let manager = &self.manager;
        let me = self.caller(who);
        match (method, template) {
            (
                "get",
                "/health/live"
                | "/health/ready"
                | "/metrics"
                | "/robots.txt"
                | "/sitemap.xml"
                | "/feed.xml"
                | "/atom.xml"
                | "/api/v1/products"
                | "/api/v1/auth/me"
                | "/api/v1/users"
                | "/api/v1/customers"
                | "/api/v1/enquiries"
                | "/api/v1/me/enquiries"
                | "/api/v1/responses"
                | "/api/v1/admin/jobs"
                | "/api/v1/admin/audit"
                | "/api/v1/admin/products"
                | "/api/v1/cart"
                | "/api/v1/orders"
                | "/api/v1/me/library"
                | "/api/v1/me/dashboard"
                | "/api/v1/users/me/identities"
                | "/api/v1/users/me/sessions"
                | "/api/v1/users/me/export",
            )
            | ("delete", "/api/v1/cart" | "/api/v1/users/me/sessions") => Call::to(template),
            ("delete", "/api/v1/users/me/sessions/{id}") => {
                Call::to(format!("/api/v1/users/me/sessions/{}", Uuid::now_v7()))
            }
            ("get", "/sitemaps/{file}") => Call::to("/sitemaps/products-1.xml"),
            ("get", "/api/v1/auth/oauth/{provider}/start") => {
                Call::to("/api/v1/auth/oauth/github/start")
            }
            ("get", "/api/v1/auth/oauth/{provider}/callback") => {
                Call::to("/api/v1/auth/oauth/github/callback?code=matrix&state=matrix")
            }
            ("delete", "/api/v1/users/me/identities/{provider}") => {
                Call::to("/api/v1/users/me/identities/github")
            }
            ("get", "/api/v1/products/{id}") => Call::to(format!(
                "/api/v1/products/{}",
                self.bought["slug"].as_str().expect("a slug")
            )),
            ("post", "/api/v1/auth/register") => Call::json(
                template,
                json!({
                    "email": unique_email("matrix"),
                    "password": format!("Pw-{}", Uuid::new_v4().simple()),
                    "firstName": "Mat",
                    "lastName": "Rix",
                }),
            ),
            ("post", "/api/v1/auth/login") => {
                let c = self.customer();
                Call::json(
                    template,
                    json!({ "email": c.email, "password": c.password }),
                )
            }
            ("post", "/api/v1/auth/refresh") => {
                let c = self.customer();
                let fresh = app.login(&c.email, &c.password).await;
                Call::json(template, json!({ "refresh_token": fresh.refresh_token }))
            }
            ("post", "/api/v1/auth/logout") => Call {
                token: Some(fresh_session(app, me).await),
                ..Call::to(template)
            },
            ("post", "/api/v1/auth/otp/request") => Call::json(
                template,
                json!({ "email": self.customer().email, "purpose": "LOGIN" }),
            ),
            ("post", "/api/v1/auth/otp/verify") => Call::json(
                template,
                json!({ "email": self.customer().email, "code": "000000", "purpose": "LOGIN" }),
            ),
            ("post", "/api/v1/auth/password/forgot") => {
                Call::json(template, json!({ "email": self.customer().email }))
            }
            ("post", "/api/v1/auth/password/reset") => Call::json(
                template,
                json!({ "token": "ab".repeat(32), "password": "a brand new passphrase" }),
            ),
            ("post", "/api/v1/auth/invites/accept") => Call::json(
                template,
                json!({ "token": "ab".repeat(32), "password": "a brand new passphrase" }),
            ),
            ("post", "/api/v1/users/invites") => Call::json(
                template,
                json!({
                    "email": unique_email("invited"),
                    "firstName": "Invited",
                    "lastName": "Staff",
                    "role": "EDITOR",
                }),
            ),
            ("post", "/api/v1/users/{id}/invite") => {
                // A fresh invitation per cell, still waiting to be accepted.
                let admin = app.admin().await;
                let invited = expect_json(
                    app.post_json(
                        "/api/v1/users/invites",
                        &json!({
                            "email": unique_email("invited"),
                            "firstName": "Invited",
                            "lastName": "Again",
                            "role": "CSO",
                        }),
                        &admin.token,
                    )
                    .await,
                    201,
                )
                .await;
                Call::to(format!(
                    "/api/v1/users/{}/invite",
                    invited["id"].as_str().expect("an id")
                ))
            }
            ("post", "/api/v1/users/me/email") => Call::json(
                template,
                json!({
                    "newEmail": unique_email("moved"),
                    "currentPassword": me.map_or("not-signed-in", |m| m.password.as_str()),
                }),
            ),
            ("post", "/api/v1/users/me/email/confirm") => {
                Call::json(template, json!({ "token": "ab".repeat(32) }))
            }
            ("post", "/api/v1/users/me/totp") => Call::json(
                template,
                json!({ "currentPassword": me.map_or("not-signed-in", |m| m.password.as_str()) }),
            ),
            ("post", "/api/v1/users/me/totp/confirm") => {
                Call::json(template, json!({ "code": "abcdef" }))
            }
            ("delete", "/api/v1/users/me/totp") => Call::json(
                template,
                json!({ "currentPassword": me.map_or("not-signed-in", |m| m.password.as_str()) }),
            ),
            ("post", "/api/v1/auth/login/totp") => Call::json(
                template,
                json!({ "challenge": "ab".repeat(32), "code": "123456" }),
            ),
            ("patch", "/api/v1/users/me") => {
                Call::json(template, json!({ "firstName": "Renamed" }))
            }
            ("post", "/api/v1/users/me/erase") => match who {
                // A fresh account per cell: the shared customers live on.
                Who::Customer | Who::OtherCustomer => {
                    let fresh = app.sign_in_as(Role::Customer).await;
                    Call {
                        token: Some(Some(fresh.token)),
                        ..Call::json(template, json!({ "password": fresh.password }))
                    }
                }
                _ => Call::json(
                    template,
                    json!({ "password": me.map_or("not-signed-in", |m| m.password.as_str()) }),
                ),
            },
            ("post", "/api/v1/users/me/password") => {
                // Handled by `change_password_cell`, which puts the password back.
                Call::to(template)
            }
            ("post", "/api/v1/users") => Call::json(
                template,
                json!({
                    "email": unique_email("staff"),
                    "password": format!("Pw-{}", Uuid::new_v4().simple()),
                    "firstName": "New",
                    "lastName": "Staff",
                    "role": "CSO",
                }),
            ),
            ("get", "/api/v1/users/{id}") => {
                Call::to(format!("/api/v1/users/{}", self.cso.user_id))
            }
            ("patch", "/api/v1/users/{id}") => {
                let target = app.sign_in_as(Role::Cso).await;
                Call::json(
                    format!("/api/v1/users/{}", target.user_id),
                    json!({ "firstName": "Changed" }),
                )
            }
            ("post", "/api/v1/customers") => Call::json(template, customer_body("Matrix")),
            ("get", "/api/v1/customers/{id}") => {
                Call::to(format!("/api/v1/customers/{}", id(&self.crm_customer)))
            }
            ("patch", "/api/v1/customers/{id}") => {
                let c = crm_customer_of(app, manager, &self.cso).await;
                Call::json(
                    format!("/api/v1/customers/{}", id(&c)),
                    json!({ "firstName": "Changed", "version": c["version"] }),
                )
            }
            ("delete", "/api/v1/customers/{id}") => {
                let c = crm_customer_of(app, manager, &self.cso).await;
                Call::to(format!("/api/v1/customers/{}", id(&c)))
            }
            ("post", "/api/v1/customers/{id}/assign") => {
                let c = crm_customer_of(app, manager, &self.cso).await;
                Call::json(
                    format!("/api/v1/customers/{}/assign", id(&c)),
                    json!({ "userId": self.cso.user_id }),
                )
            }
            ("put", "/api/v1/customers/{id}/account") => {
                let c = crm_customer_of(app, manager, &self.cso).await;
                let buyer = app.sign_in_as(Role::Customer).await;
                Call::json(
                    format!("/api/v1/customers/{}/account", id(&c)),
                    json!({ "userId": buyer.user_id }),
                )
            }
            ("delete", "/api/v1/customers/{id}/account") => {
                let c = crm_customer_of(app, manager, &self.cso).await;
                Call::to(format!("/api/v1/customers/{}/account", id(&c)))
            }
            ("get", "/api/v1/customers/{id}/notes") => Call::to(format!(
                "/api/v1/customers/{}/notes",
                id(&self.crm_customer)
            )),
            ("get", "/api/v1/customers/{id}/timeline") => Call::to(format!(
                "/api/v1/customers/{}/timeline",
                id(&self.crm_customer)
            )),
            ("post", "/api/v1/customers/{id}/notes") => Call::json(
                format!("/api/v1/customers/{}/notes", id(&self.crm_customer)),
                json!({ "body": "A note from the matrix." }),
            ),
            ("post", "/api/v1/enquiries") => Call::json(template, enquiry_body("Matrix Asker")),
            ("get", "/api/v1/enquiries/{id}") => {
                Call::to(format!("/api/v1/enquiries/{}", id(&self.enquiry)))
            }
            ("patch", "/api/v1/enquiries/{id}") => {
                let e = enquiry_of(app, manager, &self.cso).await;
                Call::json(
                    format!("/api/v1/enquiries/{}", id(&e)),
                    json!({ "status": "CLOSED" }),
                )
            }
            ("post", "/api/v1/responses") => Call::json(
                template,
                json!({
                    "customerId": self.crm_customer["id"],
                    "subject": "A new answer",
                    "content": "Here is what we found for you.",
                }),
            ),
            ("get", "/api/v1/responses/{id}") => {
                Call::to(format!("/api/v1/responses/{}", id(&self.response)))
            }
            ("get", "/api/v1/responses/{id}/history") => {
                Call::to(format!("/api/v1/responses/{}/history", id(&self.response)))
            }
            ("patch", "/api/v1/responses/{id}") => {
                let r = self.fresh_draft().await;
                Call::json(
                    format!("/api/v1/responses/{}", id(&r)),
                    json!({ "subject": "Revised", "version": r["version"] }),
                )
            }
            ("post", "/api/v1/responses/{id}/submit") => {
                let r = self.fresh_draft().await;
                Call::json(format!("/api/v1/responses/{}/submit", id(&r)), json!({}))
            }
            ("post", "/api/v1/responses/{id}/approve") => {
                let (_, r) = app.pending_response(&self.cso).await;
                Call::json(format!("/api/v1/responses/{}/approve", id(&r)), json!({}))
            }
            ("post", "/api/v1/responses/{id}/reject") => {
                let (_, r) = app.pending_response(&self.cso).await;
                Call::json(
                    format!("/api/v1/responses/{}/reject", id(&r)),
                    json!({ "notes": "Please add the invoice number." }),
                )
            }
            ("post", "/api/v1/admin/jobs/{id}/retry") => Call::json(
                format!("/api/v1/admin/jobs/{}/retry", self.job_id),
                json!({}),
            ),
            ("post", "/api/v1/products") => {
                Call::json(template, product_body("Matrix product", 2_500))
            }
            ("patch", "/api/v1/products/{id}") => {
                let p = app
                    .create_product(manager, &product_body("Patched", 2_500))
                    .await;
                Call::json(
                    format!("/api/v1/products/{}", id(&p)),
                    json!({ "title": "Patched again", "version": p["version"] }),
                )
            }
            ("delete", "/api/v1/products/{id}") => {
                let p = app
                    .create_product(manager, &product_body("Doomed", 2_500))
                    .await;
                Call::to(format!("/api/v1/products/{}", id(&p)))
            }
            ("post", "/api/v1/products/{id}/publish") => {
                let p = app
                    .create_product(manager, &product_body("To publish", 2_500))
                    .await;
                let res = app
                    .post_file(
                        &format!("/api/v1/products/{}/asset", id(&p)),
                        "file",
                        "guide.pdf",
                        "application/pdf",
                        b"%PDF-1.4 to publish",
                        manager,
                    )
                    .await;
                expect_json(res, 200).await;
                Call::to(format!("/api/v1/products/{}/publish", id(&p)))
            }
            ("post", "/api/v1/products/{id}/archive") => {
                let p = app
                    .create_product(manager, &product_body("To archive", 2_500))
                    .await;
                Call::to(format!("/api/v1/products/{}/archive", id(&p)))
            }
            ("post", "/api/v1/products/{id}/unpublish") => {
                let p = app
                    .published_product(manager, "To unpublish", 2_500, b"%PDF-1.4 un")
                    .await;
                Call::to(format!("/api/v1/products/{}/unpublish", id(&p)))
            }
            ("post", "/api/v1/products/{id}/asset") => Call {
                body: Body::File,
                ..Call::to(format!("/api/v1/products/{}/asset", id(&self.draft)))
            },
            ("get", "/api/v1/products/{id}/cover") => {
                let p = app
                    .published_product(manager, "With a cover", 2_500, b"%PDF-1.4 cover")
                    .await;
                let path = format!("/api/v1/products/{}/cover", id(&p));
                let res = app
                    .post_file(&path, "file", "c.png", "image/png", PNG, manager)
                    .await;
                expect_json(res, 200).await;
                Call::to(path)
            }
            ("post", "/api/v1/products/{id}/cover") => Call {
                body: Body::Image,
                ..Call::to(format!("/api/v1/products/{}/cover", id(&self.draft)))
            },
            ("post", "/api/v1/products/{id}/asset/upload-link") => Call::json(
                format!("/api/v1/products/{}/asset/upload-link", id(&self.draft)),
                json!({ "fileName": "guide.pdf", "contentType": "application/pdf" }),
            ),
            ("post", "/api/v1/products/{id}/asset/confirm") => Call::json(
                format!("/api/v1/products/{}/asset/confirm", id(&self.draft)),
                json!({
                    "key": format!("products/{}/{}-guide.pdf", id(&self.draft), Uuid::now_v7()),
                }),
            ),
            ("post", "/api/v1/cart/items") => {
                Call::json(template, json!({ "productId": self.shelf["id"] }))
            }
            ("delete", "/api/v1/cart/items/{product_id}") => {
                if let Some(me) = me {
                    let res = app
                        .post_json(
                            "/api/v1/cart/items",
                            &json!({ "productId": self.shelf["id"] }),
                            me,
                        )
                        .await;
                    expect_json(res, 200).await;
                }
                Call::to(format!("/api/v1/cart/items/{}", id(&self.shelf)))
            }
            ("post", "/api/v1/checkout") => {
                if let Some(me) = me {
                    let p = app
                        .published_product(manager, "Checkout item", 1_500, b"%PDF-1.4 co")
                        .await;
                    let res = app
                        .post_json("/api/v1/cart/items", &json!({ "productId": p["id"] }), me)
                        .await;
                    expect_json(res, 200).await;
                }
                Call::to(template)
            }
            ("post", "/api/v1/payments/dev/complete") => {
                // An unpaid order of the first customer.
                let p = app
                    .published_product(manager, "Unpaid item", 1_500, b"%PDF-1.4 up")
                    .await;
                let session = app.checkout_one(self.customer(), &p).await;
                Call::json(template, json!({ "orderId": session["orderId"] }))
            }
            ("post", "/api/v1/payments/verify") => Call::json(
                template,
                json!({
                    "razorpayOrderId": "order_matrix",
                    "razorpayPaymentId": "pay_matrix",
                    "razorpaySignature": "0".repeat(64),
                }),
            ),
            ("post", "/api/v1/webhooks/razorpay") => Call::json(template, json!({})),
            ("get", "/api/v1/orders/{id}") => {
                Call::to(format!("/api/v1/orders/{}", id(&self.order)))
            }
            ("get", "/api/v1/orders/{id}/invoice") => {
                Call::to(format!("/api/v1/orders/{}/invoice", id(&self.order)))
            }
            ("get", "/api/v1/orders/{id}/refunds/{refund_id}/credit-note") => Call::to(format!(
                "/api/v1/orders/{}/refunds/{}/credit-note",
                id(&self.order),
                self.refund_id
            )),
            ("post", "/api/v1/orders/{id}/refund") => {
                let p = app
                    .published_product(manager, "Refunded item", 1_500, b"%PDF-1.4 rf")
                    .await;
                let order = paid_order(app, self.customer(), &p).await;
                Call::json(
                    format!("/api/v1/orders/{}/refund", id(&order)),
                    json!({ "reason": "Asked for it back" }),
                )
            }
            ("get", "/api/v1/products/{id}/download") => {
                Call::to(format!("/api/v1/products/{}/download", id(&self.bought)))
            }
            ("get", "/api/v1/files/{key}") => {
                let url = reqwest::Url::parse(&self.file_link).expect("a URL");
                Call::to(format!(
                    "{}?{}",
                    url.path(),
                    url.query().unwrap_or_default()
                ))
            }
            ("post", "/api/v1/metrics/events") => Call::json(
                template,
                json!({ "events": [{ "type": "pageview", "path": "/matrix" }] }),
            ),
            (
                "get",
                "/api/v1/analytics/pages"
                | "/api/v1/analytics/referrers"
                | "/api/v1/analytics/trend"
                | "/api/v1/analytics/conversions"
                | "/api/v1/analytics/campaigns",
            ) => Call::to(format!("{template}?from=2026-01-01&to=2026-01-31")),
            (
                "get",
                "/api/v1/feedback"
                | "/api/v1/admin/feedback"
                | "/api/v1/me/reviews"
                | "/api/v1/admin/reviews",
            ) => Call::to(template),
            ("post", "/api/v1/feedback") => Call::json(
                template,
                json!({ "message": "The matrix says hello", "rating": 4, "page": "/matrix" }),
            ),
            ("post", "/api/v1/admin/feedback/{id}/publish") => Call::json(
                format!(
                    "/api/v1/admin/feedback/{}/publish",
                    self.fresh_feedback().await
                ),
                json!({}),
            ),
            ("post", "/api/v1/admin/feedback/{id}/hide") => Call::json(
                format!(
                    "/api/v1/admin/feedback/{}/hide",
                    self.fresh_feedback().await
                ),
                json!({ "reason": "Off topic" }),
            ),
            ("put", "/api/v1/products/{id}/review") => {
                // The customer replaces their review (200); nobody else owns the product.
                let review = self.pending_review().await;
                Call::json(
                    format!("/api/v1/products/{}/review", id(&self.bought)),
                    json!({ "rating": 4, "body": "Replaced", "version": review["version"] }),
                )
            }
            ("delete", "/api/v1/products/{id}/review") => {
                self.pending_review().await;
                Call::to(format!("/api/v1/products/{}/review", id(&self.bought)))
            }
            ("get", "/api/v1/products/{id}/reviews") => {
                Call::to(format!("/api/v1/products/{}/reviews", id(&self.bought)))
            }
            ("post", "/api/v1/admin/reviews/{id}/publish") => {
                let review = self.pending_review().await;
                Call::json(
                    format!("/api/v1/admin/reviews/{}/publish", id(&review)),
                    json!({}),
                )
            }
            ("post", "/api/v1/admin/reviews/{id}/hide") => {
                let review = self.pending_review().await;
                Call::json(
                    format!("/api/v1/admin/reviews/{}/hide", id(&review)),
                    json!({ "reason": "Off topic" }),
                )
            }
            ("get", "/api/v1/customers/{id}/feedback") => Call::to(format!(
                "/api/v1/customers/{}/feedback",
                id(&self.crm_customer)
            )),
            // CMS pages: a fresh page per cell, made by the manager.
            ("get", "/api/v1/admin/pages" | "/api/v1/admin/content/audit") => Call::to(template),
            ("get", "/api/v1/content/pages/{slug}") => {
                let p = content_page(app, manager, true).await;
                Call::to(format!(
                    "/api/v1/content/pages/{}",
                    p["slug"].as_str().expect("slug")
                ))
            }
            ("get", "/api/v1/content/preview/{token}") => {
                let p = content_page(app, manager, false).await;
                let res = app
                    .post(&format!("/api/v1/admin/pages/{}/preview", id(&p)), manager)
                    .await;
                let link = expect_json(res, 200).await;
                Call::to(link["url"].as_str().expect("a preview url").to_owned())
            }
            ("post", "/api/v1/admin/pages") => Call::json(
                template,
                content_page_body(&format!("m-{}", Uuid::now_v7().simple())),
            ),
            ("get", "/api/v1/admin/pages/{id}") => {
                let p = content_page(app, manager, false).await;
                Call::to(format!("/api/v1/admin/pages/{}", id(&p)))
            }
            ("patch", "/api/v1/admin/pages/{id}") => {
                let p = content_page(app, manager, false).await;
                Call::json(
                    format!("/api/v1/admin/pages/{}", id(&p)),
                    json!({ "title": "Changed", "version": p["version"] }),
                )
            }
            ("delete", "/api/v1/admin/pages/{id}") => {
                let p = content_page(app, manager, false).await;
                Call::to(format!("/api/v1/admin/pages/{}", id(&p)))
            }
            ("get", "/api/v1/admin/pages/{id}/versions") => {
                let p = content_page(app, manager, false).await;
                Call::to(format!("/api/v1/admin/pages/{}/versions", id(&p)))
            }
            ("get", "/api/v1/admin/pages/{id}/versions/{number}") => {
                let p = content_page(app, manager, false).await;
                Call::to(format!("/api/v1/admin/pages/{}/versions/1", id(&p)))
            }
            ("post", "/api/v1/admin/pages/{id}/versions/{number}/restore") => {
                let p = content_page(app, manager, false).await;
                Call::json(
                    format!("/api/v1/admin/pages/{}/versions/1/restore", id(&p)),
                    json!({ "version": p["version"] }),
                )
            }
            ("get", "/api/v1/admin/pages/{id}/diff") => {
                let p = content_page(app, manager, true).await;
                Call::to(format!("/api/v1/admin/pages/{}/diff?from=1&to=2", id(&p)))
            }
            ("post", "/api/v1/admin/pages/{id}/publish") => {
                let p = content_page(app, manager, false).await;
                Call::json(
                    format!("/api/v1/admin/pages/{}/publish", id(&p)),
                    json!({ "version": p["version"] }),
                )
            }
            ("post", "/api/v1/admin/pages/{id}/unpublish") => {
                let p = content_page(app, manager, true).await;
                Call::json(
                    format!("/api/v1/admin/pages/{}/unpublish", id(&p)),
                    json!({ "version": p["version"] }),
                )
            }
            ("post", "/api/v1/admin/pages/{id}/schedule") => {
                let p = content_page(app, manager, false).await;
                Call::json(
                    format!("/api/v1/admin/pages/{}/schedule", id(&p)),
                    json!({
                        "version": p["version"],
                        "publishAt": chrono::Utc::now() + chrono::Duration::hours(1),
                    }),
                )
            }
            ("post", "/api/v1/admin/pages/{id}/preview") => {
                let p = content_page(app, manager, false).await;
                Call::to(format!("/api/v1/admin/pages/{}/preview", id(&p)))
            }
            // SEO: the report, a published page once its audit is stored, a scan.
            ("get", "/api/v1/seo/report") => Call::to(template),
            ("post", "/api/v1/seo/scan") => Call::to(template),
            // Redirect rules: a fresh rule per cell, made by the manager.
            ("get", "/api/v1/admin/redirects") => Call::to(template),
            ("post", "/api/v1/admin/redirects") => Call::json(
                template,
                json!({
                    "source": format!("/matrix-{}", uuid::Uuid::now_v7().simple()),
                    "kind": 301,
                    "target": "/landing",
                }),
            ),
            ("get", "/api/v1/admin/redirects/{id}") => {
                let r = redirect_rule(app, manager).await;
                Call::to(format!("/api/v1/admin/redirects/{}", id(&r)))
            }
            ("patch", "/api/v1/admin/redirects/{id}") => {
                let r = redirect_rule(app, manager).await;
                Call::json(
                    format!("/api/v1/admin/redirects/{}", id(&r)),
                    json!({ "note": "Changed", "version": r["version"] }),
                )
            }
            ("delete", "/api/v1/admin/redirects/{id}") => {
                let r = redirect_rule(app, manager).await;
                Call::to(format!(
                    "/api/v1/admin/redirects/{}?version={}",
                    id(&r),
                    r["version"]
                ))
            }
            ("get", "/api/v1/seo/items/{kind}/{id}") => {
                let p = content_page(app, manager, true).await;
                let path = format!("/api/v1/seo/items/page/{}", id(&p));
                eventually("the page's SEO audit", async || {
                    (app.get(&path, manager).await.status() == 200).then_some(())
                })
                .await;
                Call::to(path)
            }
            // Team members: a fresh member per cell, made by the manager.
            ("get", "/api/v1/content/team" | "/api/v1/admin/team" | "/api/v1/content/site") => {
                Call::to(template)
            }
            ("get", "/api/v1/content/team/{id}/photo") => {
                let m = team_member(app, manager, true).await;
                Call::to(format!("/api/v1/content/team/{}/photo", id(&m)))
            }
            ("post", "/api/v1/admin/team") => Call::json(
                template,
                json!({ "name": "Matrix Member", "roleTitle": "Tester" }),
            ),
            ("post", "/api/v1/admin/team/reorder") => {
                let m = team_member(app, manager, false).await;
                Call::json(
                    template,
                    json!({ "order": [{ "id": id(&m), "version": m["version"] }] }),
                )
            }
            ("get" | "delete", "/api/v1/admin/team/{id}") => {
                let m = team_member(app, manager, false).await;
                Call::to(format!("/api/v1/admin/team/{}", id(&m)))
            }
            ("patch", "/api/v1/admin/team/{id}") => {
                let m = team_member(app, manager, false).await;
                Call::json(
                    format!("/api/v1/admin/team/{}", id(&m)),
                    json!({ "bio": "Changed", "version": m["version"] }),
                )
            }
            ("post", "/api/v1/admin/team/{id}/photo") => {
                let m = team_member(app, manager, false).await;
                Call {
                    body: Body::Image,
                    ..Call::to(format!("/api/v1/admin/team/{}/photo", id(&m)))
                }
            }
            // The blog: a fresh post per cell, by a fresh member, made by the manager.
            ("get", "/api/v1/content/posts" | "/api/v1/admin/posts") => Call::to(template),
            ("get", "/api/v1/content/posts/{slug}") => {
                let p = blog_post(app, manager, "PUBLISHED").await;
                Call::to(format!(
                    "/api/v1/content/posts/{}",
                    p["slug"].as_str().expect("slug")
                ))
            }
            ("get", "/api/v1/content/posts/{id}/cover") => {
                let p = blog_post(app, manager, "COVER").await;
                Call::to(format!("/api/v1/content/posts/{}/cover", id(&p)))
            }
            ("post", "/api/v1/admin/posts") => {
                let m = team_member(app, manager, false).await;
                Call::json(
                    template,
                    json!({
                        "slug": format!("m-{}", Uuid::now_v7().simple()),
                        "title": "Matrix post",
                        "authorId": m["id"],
                    }),
                )
            }
            ("get" | "delete", "/api/v1/admin/posts/{id}") => {
                let p = blog_post(app, manager, "DRAFT").await;
                Call::to(format!("/api/v1/admin/posts/{}", id(&p)))
            }
            ("patch", "/api/v1/admin/posts/{id}") => {
                let p = blog_post(app, manager, "DRAFT").await;
                Call::json(
                    format!("/api/v1/admin/posts/{}", id(&p)),
                    json!({ "title": "Changed", "version": p["version"] }),
                )
            }
            ("post", "/api/v1/admin/posts/{id}/publish") => {
                let p = blog_post(app, manager, "DRAFT").await;
                Call::json(
                    format!("/api/v1/admin/posts/{}/publish", id(&p)),
                    json!({ "version": p["version"] }),
                )
            }
            ("post", "/api/v1/admin/posts/{id}/unpublish") => {
                let p = blog_post(app, manager, "PUBLISHED").await;
                Call::json(
                    format!("/api/v1/admin/posts/{}/unpublish", id(&p)),
                    json!({ "version": p["version"] }),
                )
            }
            ("post", "/api/v1/admin/posts/{id}/schedule") => {
                let p = blog_post(app, manager, "DRAFT").await;
                Call::json(
                    format!("/api/v1/admin/posts/{}/schedule", id(&p)),
                    json!({
                        "version": p["version"],
                        "publishAt": chrono::Utc::now() + chrono::Duration::hours(1),
                    }),
                )
            }
            ("post", "/api/v1/admin/posts/{id}/cover") => {
                let p = blog_post(app, manager, "DRAFT").await;
                Call {
                    body: Body::Image,
                    ..Call::to(format!("/api/v1/admin/posts/{}/cover", id(&p)))
                }
            }
            (m, p) => panic!("no request written for {} {p}", m.to_uppercase()),
        }
    }

    /// The id of a fresh piece of NEW site feedback.
    async fn fresh_feedback(&self) -> String {
        let app = &self.app;
        let message = format!("Matrix feedback {}", Uuid::now_v7());
        let res = app
            .post_json("/api/v1/feedback", &json!({ "message": message }), NO_TOKEN)
            .await;
        expect_json(res, 202).await;
        let queue = expect_json(
            app.get("/api/v1/admin/feedback?status=NEW&limit=1", &self.manager)
                .await,
            200,
        )
        .await;
        assert_eq!(queue["data"][0]["message"], json!(message), "{queue}");
        id(&queue["data"][0]).to_owned()
    }

    /// The first customer's review of `bought`, written or replaced so that it is PENDING.
    async fn pending_review(&self) -> Value {
        let app = &self.app;
        let customer = self.customer();
        let mine = expect_json(app.get("/api/v1/me/reviews", customer).await, 200).await;
        let version = mine["data"]
            .as_array()
            .and_then(|all| all.iter().find(|r| r["productId"] == self.bought["id"]))
            .map(|r| r["version"].clone());
        let res = app
            .request(
                Method::PUT,
                &format!("/api/v1/products/{}/review", id(&self.bought)),
                customer,
            )
            .json(&json!({ "rating": 5, "body": "Worth it", "version": version }))
            .send()
            .await
            .expect("the request reaches the app");
        let status = if version.is_some() { 200 } else { 201 };
        expect_json(res, status).await
    }

    async fn fresh_draft(&self) -> Value {
        self.app
            .draft_response(
                &self.cso,
                &json!({
                    "customerId": self.crm_customer["id"],
                    "subject": "Draft to act on",
                    "content": "Some content to act on.",
                }),
            )
            .await
    }

    /// Sends `call` as `who`, answering the status and the body (`null` unless JSON).
    async fn send(&self, method: &str, who: Who, call: Call) -> (u16, Value) {
        let token = match call.token {
            Some(token) => token,
            None => self.caller(who).map(|s| s.token.clone()),
        };
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
        let res = match call.body {
            Body::Image => {
                self.app
                    .post_file(
                        &call.path,
                        "file",
                        "me.png",
                        "image/png",
                        b"\x89PNG\r\n\x1a\n matrix",
                        token.as_deref(),
                    )
                    .await
            }
            Body::File => {
                self.app
                    .post_file(
                        &call.path,
                        "file",
                        "guide.pdf",
                        "application/pdf",
                        b"%PDF-1.4 matrix",
                        token.as_deref(),
                    )
                    .await
            }
            Body::Json(body) => self
                .app
                .request(method, &call.path, token.as_deref())
                .json(&body)
                .send()
                .await
                .expect("the request reaches the app"),
            Body::None => self
                .app
                .request(method, &call.path, token.as_deref())
                .send()
                .await
                .expect("the request reaches the app"),
        };
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// `POST /users/me/password` as `who`, on a session of its own, then puts the old
    /// password back and signs the caller in again (a change ends their other sessions).
    async fn change_password_cell(&mut self, at: usize) -> u16 {
        let Some(me) = self.callers[at].clone() else {
            let res = self
                .app
                .post_json(
                    "/api/v1/users/me/password",
                    &json!({ "currentPassword": "x", "newPassword": "long-enough-pw" }),
                    NO_TOKEN,
                )
                .await;
            return res.status().as_u16();
        };
        let session = self.app.login(&me.email, &me.password).await;
        let changed = format!("{}-changed", me.password);
        let res = self
            .app
            .post_json(
                "/api/v1/users/me/password",
                &json!({ "currentPassword": me.password, "newPassword": changed }),
                &session,
            )
            .await;
        let status = res.status().as_u16();
        if status == 204 {
            let back = self
                .app
                .post_json(
                    "/api/v1/users/me/password",
                    &json!({ "currentPassword": changed, "newPassword": me.password }),
                    &session,
                )
                .await;
            assert_eq!(back.status(), 204, "the password is put back");
        }
        self.callers[at] = Some(self.app.login(&me.email, &me.password).await);
        if self.manager.user_id == me.user_id {
            self.manager = self.callers[at].clone().expect("signed in");
        }
        if self.cso.user_id == me.user_id {
            self.cso = self.callers[at].clone().expect("signed in");
        }
        status
    }
}

/// Marks the users' e-mail addresses verified, straight in the database.
async fn mark_verified(app: &TestApp, users: &[&Signed]) {
    let db = app.db().await;
    for user in users {
        let update = Query::update()
            .table(Alias::new("users"))
            .value(Alias::new("email_verified"), true)
            .and_where(
                Expr::col(Alias::new("id")).eq(Uuid::parse_str(&user.user_id).expect("a user id")),
            )
            .to_owned();
        let done = db
            .execute(&update)
            .await
            .expect("mark the address verified");
        assert_eq!(done.rows_affected(), 1, "the user exists");
    }
    let _ = db.close().await;
}

/// A new session of `who` (its access token), or none for the anonymous caller.
async fn fresh_session(app: &TestApp, who: Option<&Signed>) -> Option<String> {
    match who {
        Some(s) => Some(app.login(&s.email, &s.password).await.token),
        None => None,
    }
}

/// A new CRM customer assigned to `cso`, created by `manager`.
async fn crm_customer_of(app: &TestApp, manager: &Signed, cso: &Signed) -> Value {
    let mut body = customer_body("Owned");
    body["assignedTo"] = json!(cso.user_id);
    app.create_customer(manager, &body).await
}

/// A new public enquiry routed to `cso`: it comes from the address of a customer record
/// assigned to them.
async fn enquiry_of(app: &TestApp, manager: &Signed, cso: &Signed) -> Value {
    let record = crm_customer_of(app, manager, cso).await;
    let mut body = enquiry_body("Routed Asker");
    body["email"] = record["email"].clone();
    let receipt = app.submit_enquiry(&body).await;
    let enquiry = expect_json(
        app.get(&format!("/api/v1/enquiries/{}", id(&receipt)), manager)
            .await,
        200,
    )
    .await;
    assert_eq!(enquiry["assignedTo"], json!(cso.user_id), "{enquiry}");
    enquiry
}

/// `buyer`'s order of `product`, paid through the development gateway.
async fn paid_order(app: &TestApp, buyer: &Signed, product: &Value) -> Value {
    let session = app.checkout_one(buyer, product).await;
    let res = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": session["orderId"] }),
            buyer,
        )
        .await;
    expect_json(res, 200).await;
    app.order(&session["orderId"], buyer).await
}

/// Every operation of the OpenAPI document, as `(method, path)`.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("the document has paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|m| {
                    matches!(
                        m.as_str(),
                        "get" | "post" | "put" | "patch" | "delete" | "head" | "options"
                    )
                })
                .map(|m| (m.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `{id}`, `{key:.*}`, `{product_id}` all become `{}`.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push_str("{}");
                }
            }
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every `web::resource("…")` with its `web::<method>()` routes in the HTTP sources, as
/// `METHOD /shape`: the routes actix really serves. Areas mount under `/api/v1`; the app
/// shell (`http/mod.rs`), the probes (`http/health.rs`) and `/metrics` (`http/metrics.rs`)
/// at the root.
fn registered_routes() -> BTreeSet<String> {
    let http = Path::new(env!("CARGO_MANIFEST_DIR")).join("../apps/nexus/src/http");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut pending = vec![http.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("read the HTTP sources")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let at_root = ["mod.rs", "health.rs", "metrics.rs", "site.rs", "feeds.rs"]
            .iter()
            .any(|root| file == http.join(root));
        let prefix = if at_root { "" } else { "/api/v1" };
        let pieces: Vec<&str> = text.split("web::resource(\"").skip(1).collect();
        for piece in pieces {
            let Some((path, rest)) = piece.split_once('"') else {
                continue;
            };
            for method in ["get", "post", "put", "patch", "delete"] {
                if rest.contains(&format!("web::{method}()")) {
                    routes.insert(format!(
                        "{} {}",
                        method.to_uppercase(),
                        shape(&format!("{prefix}{path}"))
                    ));
                }
            }
        }
    }
    routes
}

#[test]
fn every_route_in_the_table_is_written_once() {
    let mut seen = BTreeSet::new();
    for (method, path, _) in ROUTES {
        assert!(seen.insert((method, path)), "{method} {path} has two rows");
    }
}

#[test]
fn every_registered_route_is_documented() {
    let registered = registered_routes();
    let documented: BTreeSet<String> = ROUTES
        .iter()
        .map(|(m, p, _)| format!("{} {}", m.to_uppercase(), shape(p)))
        .collect();
    let undocumented: Vec<&String> = registered
        .iter()
        .filter(|r| !documented.contains(*r) && !UNDOCUMENTED_ALLOWED.contains(&r.as_str()))
        .collect();

    assert!(
        registered.len() > 50,
        "the scan found too little: {registered:?}"
    );
    assert!(
        undocumented.is_empty(),
        "routes served but not in the OpenAPI document or the matrix: {undocumented:?}"
    );
}

#[tokio::test]
async fn every_operation_answers_each_caller_as_the_policy_says() {
    let mut world = World::build().await;
    let doc = expect_json(world.app.get("/api-docs/openapi.json", NO_TOKEN).await, 200).await;
    let operations = documented(&doc);
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<String> = operations
        .difference(&table)
        .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
        .collect();
    let stale: Vec<String> = table
        .difference(&operations)
        .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the matrix (add one to ROUTES): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows for operations the OpenAPI document does not have: {stale:?}"
    );

    let mut cells = 0;
    let mut wrong = Vec::new();
    let mut unserved = BTreeSet::new();
    for (method, path, expected) in ROUTES {
        for (at, who) in CALLERS.iter().enumerate() {
            let status = if *path == "/api/v1/users/me/password" {
                world.change_password_cell(at).await
            } else {
                let call = world.call(method, path, *who).await;
                let (status, body) = world.send(method, *who, call).await;
                if body["error"] == "route_not_found" {
                    unserved.insert(format!("{} {path}", method.to_uppercase()));
                }
                status
            };
            cells += 1;
            let awaited = AWAITING
                .iter()
                .find(|(m, p, w, _)| m == method && p == path && w == who);
            if let Some((_, _, _, today)) = awaited {
                if status == expected[at] {
                    wrong.push(format!(
                        "{} {path} as {who:?} now answers {status} as the policy says: delete its AWAITING entry",
                        method.to_uppercase()
                    ));
                } else if status != *today {
                    wrong.push(format!(
                        "{} {path} as {who:?}: expected {} (or {today} until the change lands), got {status}",
                        method.to_uppercase(),
                        expected[at]
                    ));
                }
                continue;
            }
            if status != expected[at] {
                wrong.push(format!(
                    "{} {path} as {who:?}: expected {}, got {status}",
                    method.to_uppercase(),
                    expected[at]
                ));
            }
        }
    }

    assert!(
        unserved.is_empty(),
        "documented operations that no route serves (the 404 fallback answered): {unserved:?}"
    );
    nexus_tests::note(&format!(
        "route x role matrix: {cells} cells checked over {} operations",
        ROUTES.len()
    ));
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells differ from the policy:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The body of a new CMS page named `key`.
fn content_page_body(key: &str) -> Value {
    json!({
        "key": key,
        "slug": key,
        "title": "Matrix page",
        "blocks": [{"type": "richText", "text": "Hello"}],
    })
}

/// A fresh CMS page made by `manager`, published when asked.
/// A fresh blog post by a fresh team member: a `DRAFT`, `PUBLISHED`, or `COVER` (published
/// with a cover image).
async fn blog_post(app: &TestApp, manager: &Signed, state: &str) -> Value {
    let author = team_member(app, manager, false).await;
    let res = app
        .post_json(
            "/api/v1/admin/posts",
            &json!({
                "slug": format!("m-{}", Uuid::now_v7().simple()),
                "title": "Matrix post",
                "body": "Hello",
                "authorId": author["id"],
            }),
            manager,
        )
        .await;
    let mut post = expect_json(res, 201).await;
    if state == "DRAFT" {
        return post;
    }
    if state == "COVER" {
        let res = app
            .post_file(
                &format!("/api/v1/admin/posts/{}/cover", id(&post)),
                "file",
                "cover.png",
                "image/png",
                b"\x89PNG\r\n\x1a\n matrix",
                manager,
            )
            .await;
        post = expect_json(res, 200).await;
    }
    let res = app
        .post_json(
            &format!("/api/v1/admin/posts/{}/publish", id(&post)),
            &json!({ "version": post["version"] }),
            manager,
        )
        .await;
    expect_json(res, 200).await
}

/// A fresh redirect rule.
async fn redirect_rule(app: &TestApp, manager: &Signed) -> Value {
    let res = app
        .post_json(
            "/api/v1/admin/redirects",
            &json!({
                "source": format!("/matrix-{}", uuid::Uuid::now_v7().simple()),
                "kind": 410,
            }),
            manager,
        )
        .await;
    expect_json(res, 201).await
}

/// A fresh team member, with a photo when `with_photo`.
async fn team_member(app: &TestApp, manager: &Signed, with_photo: bool) -> Value {
    let res = app
        .post_json(
            "/api/v1/admin/team",
            &json!({ "name": "Matrix Member", "roleTitle": "Tester" }),
            manager,
        )
        .await;
    let member = expect_json(res, 201).await;
    if !with_photo {
        return member;
    }
    let res = app
        .post_file(
            &format!("/api/v1/admin/team/{}/photo", id(&member)),
            "file",
            "me.png",
            "image/png",
            b"\x89PNG\r\n\x1a\n matrix",
            manager,
        )
        .await;
    expect_json(res, 200).await
}

async fn content_page(app: &TestApp, manager: &Signed, published: bool) -> Value {
    let key = format!("m-{}", Uuid::now_v7().simple());
    let res = app
        .post_json("/api/v1/admin/pages", &content_page_body(&key), manager)
        .await;
    let page = expect_json(res, 201).await;
    if !published {
        return page;
    }
    let res = app
        .post_json(
            &format!("/api/v1/admin/pages/{}/publish", id(&page)),
            &json!({ "version": page["version"] }),
            manager,
        )
        .await;
    expect_json(res, 200).await
}
