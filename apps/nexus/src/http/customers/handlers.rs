//! `/api/v1/customers`: the CRM's customer records.

use actix_web::{HttpResponse, web};
use nexus_customers::CustomerId;
use nexus_customers::{CustomerQuery, NewCustomer, UpdateCustomer};
use nexus_kernel::{PageRequest, UserId};
use uuid::Uuid;

use super::dto::{
    AssignCustomerRequest, CreateCustomerRequest, CustomerResponse, LinkAccountRequest,
    ListCustomersQuery, UpdateCustomerRequest,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the customer routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/customers")
            .route(web::get().to(list_customers))
            .route(web::post().to(create_customer)),
    )
    .service(
        web::resource("/customers/{id}")
            .route(web::get().to(get_customer))
            .route(web::patch().to(update_customer))
            .route(web::delete().to(delete_customer)),
    )
    .service(web::resource("/customers/{id}/assign").route(web::post().to(assign_customer)))
    .service(
        web::resource("/customers/{id}/account")
            .route(web::put().to(link_account))
            .route(web::delete().to(unlink_account)),
    )
    .configure(super::notes::configure)
    .configure(super::timeline::configure);
}

/// Lists the customers the caller may see, with search, filters and sort.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])), params(ListCustomersQuery),
    responses((status = 200, body = PageResponse<CustomerResponse>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_customers(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ListCustomersQuery>,
) -> Result<HttpResponse, ApiError> {
    let parsed = CustomerQuery::try_from(&*query)?;
    let page = state
        .customers
        .list(
            &auth.actor(),
            parsed,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, CustomerResponse::from)))
}

/// Creates a customer (assigned to the creator unless `assignedTo` says otherwise).
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])), request_body = CreateCustomerRequest,
    responses((status = 201, body = CustomerResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_customer(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<CreateCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = NewCustomer::try_from(body.0)?;
    let customer = state.customers.create(&auth.actor(), input).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(customer.version))
        .json(CustomerResponse::from(customer)))
}

/// One customer; another officer's customer is 404.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = CustomerResponse, headers(("ETag" = String))), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn get_customer(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let customer = state
        .customers
        .get(&auth.actor(), CustomerId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.version))
        .json(CustomerResponse::from(customer)))
}

/// Changes a customer. Send the version read as `If-Match: "<version>"` or in the body;
/// a stale one is 409, none at all is 428.
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdateCustomerRequest,
    responses((status = 200, body = CustomerResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn update_customer(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidatedJson<UpdateCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let expected = if_match.or_version(body.version)?;
    let change = UpdateCustomer::try_from(body)?;
    let customer = state
        .customers
        .update(&auth.actor(), CustomerId::from_uuid(*id), expected, change)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.version))
        .json(CustomerResponse::from(customer)))
}

/// Deletes a customer without history (MANAGER, ADMIN); one with responses or enquiries is kept (409).
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "customer_has_history: the customer has responses or enquiries", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn delete_customer(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .customers
        .delete(&auth.actor(), CustomerId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Assigns a customer to an active staff member (MANAGER, ADMIN).
#[utoipa::path(post, path = "/api/v1/customers/{id}/assign", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = AssignCustomerRequest,
    responses((status = 200, body = CustomerResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn assign_customer(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: ValidatedJson<AssignCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    let customer = state
        .customers
        .assign(
            &auth.actor(),
            CustomerId::from_uuid(*id),
            UserId::from_uuid(body.0.user_id),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.version))
        .json(CustomerResponse::from(customer)))
}

/// Links a buyer (CUSTOMER) account to a customer the caller may edit; linking the account
/// already linked changes nothing.
#[utoipa::path(put, path = "/api/v1/customers/{id}/account", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = LinkAccountRequest,
    responses((status = 200, body = CustomerResponse, headers(("ETag" = String))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "account_already_linked: the account is linked to another customer; conflict: the customer changed meanwhile", body = ErrorBody),
        (status = 422, description = "invalid_account: no such account, or not a CUSTOMER account", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn link_account(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: ValidatedJson<LinkAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let customer = state
        .customers
        .link_account(
            &auth.actor(),
            CustomerId::from_uuid(*id),
            UserId::from_uuid(body.0.user_id),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.version))
        .json(CustomerResponse::from(customer)))
}

/// Removes the link between a customer the caller may edit and its buyer account.
#[utoipa::path(delete, path = "/api/v1/customers/{id}/account", tag = "customers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = CustomerResponse, headers(("ETag" = String))), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "conflict: the customer changed meanwhile", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn unlink_account(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let customer = state
        .customers
        .unlink_account(&auth.actor(), CustomerId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.version))
        .json(CustomerResponse::from(customer)))
}
