//! `/api/v1/admin/jobs`: background work, for administrators. Each job is one event's
//! delivery to one subscriber; its kind is the subscriber's name.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use nexus_kernel::PageRequest;
use nexus_outbox::{Delivery, DeliveryFilter, DeliveryId, DeliveryState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ErrorBody, FieldErrors};
use crate::http::extract::Auth;
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Every kind of background work: the names of the subscribers the app may register
/// (`index_product` and `index_post` only with Meilisearch). `JobKindDto` documents the same list, and
/// `compose` refuses a subscriber missing from it.
pub const KINDS: [&str; 30] = [
    "send_response",
    "send_welcome",
    "send_otp",
    "send_account_link",
    "send_email_change_notice",
    "send_identity_linked_notice",
    "generate_invoice",
    "send_order_confirmation",
    "send_account_exists",
    "generate_credit_note",
    "refund_unapplied_payment",
    "send_refund_notice",
    "expire_order",
    "reconcile_payment",
    "index_product",
    "index_post",
    "invalidate_catalog_cache",
    "invalidate_catalog_ratings",
    "invalidate_content_cache",
    "audit_product_seo",
    "audit_page_seo",
    "audit_post_seo",
    "seo_scan",
    "invalidate_redirects",
    "link_customer_account",
    "warn_approvers",
    "escalate_overdue_response",
    "drop_erased_cart",
    "anonymise_erased_feedback",
    "unlink_erased_customer",
];

/// A job as administrators see it (never its event's payload: it may hold a one-time code).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobResponse {
    /// Id.
    pub id: Uuid,
    /// What the job does (one of the documented kinds).
    #[schema(value_type = crate::http::schema::JobKindDto)]
    pub kind: String,
    /// PENDING, RUNNING, DONE or DEAD.
    #[schema(value_type = crate::http::schema::JobStateDto)]
    pub state: String,
    /// Attempts started.
    pub attempts: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Next run.
    pub run_at: DateTime<Utc>,
    /// Worker holding it.
    pub locked_by: Option<String>,
    /// Lease end.
    pub locked_until: Option<DateTime<Utc>>,
    /// Last failure.
    pub last_error: Option<String>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Delivery> for JobResponse {
    fn from(j: Delivery) -> Self {
        Self {
            id: j.id.as_uuid(),
            kind: j.subscriber,
            state: j.state.as_str().to_owned(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            locked_by: j.locked_by,
            locked_until: j.locked_until,
            last_error: j.last_error,
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

/// Filters and paging for jobs.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListJobsQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// PENDING, RUNNING, DONE or DEAD.
    #[param(value_type = Option<crate::http::schema::JobStateDto>)]
    pub state: Option<String>,
    /// What the job does (one of the documented kinds).
    #[param(value_type = Option<crate::http::schema::JobKindDto>)]
    pub kind: Option<String>,
}

/// Mounts the job routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/jobs").route(web::get().to(list_jobs)))
        .service(web::resource("/admin/jobs/{id}/retry").route(web::post().to(retry_job)));
}

impl TryFrom<&ListJobsQuery> for DeliveryFilter {
    type Error = ApiError;

    fn try_from(q: &ListJobsQuery) -> Result<Self, ApiError> {
        let blank = crate::http::extract::non_blank;
        let mut e = FieldErrors::default();
        let job_state = e.check_opt(
            "state",
            "invalid",
            blank(&q.state).map(|s| s.trim().to_ascii_uppercase().parse::<DeliveryState>()),
        );
        let kind = e.check_opt(
            "kind",
            "invalid",
            blank(&q.kind).map(|s| {
                let name = s.trim().to_ascii_lowercase();
                KINDS
                    .contains(&name.as_str())
                    .then_some(name)
                    .ok_or("not a documented kind of job")
            }),
        );
        let (Some(job_state), Some(subscriber)) = (job_state, kind) else {
            return Err(e.into_error());
        };
        Ok(Self {
            state: job_state,
            subscriber,
        })
    }
}

/// Lists jobs, dead letters included (ADMIN).
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "jobs", security(("bearer" = [])), params(ListJobsQuery),
    responses((status = 200, body = PageResponse<JobResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_jobs(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ListJobsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = DeliveryFilter::try_from(&*query)?;
    let page = state
        .jobs
        .list(
            &auth.actor(),
            filter,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, JobResponse::from)))
}

/// Sends a DEAD job back to the queue with a fresh attempt budget (ADMIN).
#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/retry", tag = "jobs", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = JobResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "invalid_state: only DEAD jobs can be retried", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(job_id = %id))]
pub async fn retry_job(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let job = state
        .jobs
        .retry(&auth.actor(), DeliveryId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::Ok().json(JobResponse::from(job)))
}
