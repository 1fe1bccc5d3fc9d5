//! Page metrics: `POST /api/v1/metrics/events` (public, rate-limited) and the staff reports
//! under `/api/v1/analytics` (`analytics.read`).

use actix_web::http::header::USER_AGENT;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use nexus_analytics::{
    CampaignStats, DateRange, DayStats, PageStats, RawEvent, ReferrerHost, ReferrerStats, Visitor,
};
use nexus_kernel::PageRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ErrorBody, FieldErrors};
use crate::http::extract::Auth;
use crate::http::limits::{Action, Client};
use crate::http::page::PageResponse;
use crate::state::AppState;

/// Mounts the page-metrics routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics/events").route(web::post().to(ingest_events)))
        .service(web::resource("/analytics/pages").route(web::get().to(top_pages)))
        .service(web::resource("/analytics/referrers").route(web::get().to(top_referrers)))
        .service(web::resource("/analytics/trend").route(web::get().to(trend)))
        .service(web::resource("/analytics/conversions").route(web::get().to(conversions)))
        .service(web::resource("/analytics/campaigns").route(web::get().to(campaigns)));
}

/// A batch of 1 to 50 events from one browser.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricsBatchRequest {
    /// The events (1 to 50); one invalid event refuses the whole batch.
    #[schema(min_items = 1, max_items = 50)]
    pub events: Vec<MetricEventRequest>,
}

/// One page view or named event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricEventRequest {
    /// `pageview` or `event` (an `event` needs a `name`: the document says so with
    /// an `anyOf`, added by `openapi::document`).
    #[serde(rename = "type")]
    #[schema(example = "pageview", pattern = "^(pageview|event)$")]
    pub kind: String,
    /// For `event`: `[a-z0-9_]{1,40}` (`add_to_cart`, `purchase`, `signup`...).
    #[schema(example = "add_to_cart", pattern = "^[a-z0-9_]{1,40}$")]
    pub name: Option<String>,
    /// The page: relative, starts with `/`, at most 500 characters without its query string
    /// (dropped, except its `utm_*` parameters, which fill the campaign fields).
    #[schema(
        example = "/products/ebook?utm_source=newsletter",
        pattern = "^/([^/\\s\\\\\\x00-\\x1f\\x7f-\\x9f][^\\s\\x00-\\x1f\\x7f-\\x9f]*)?$",
        max_length = 500
    )]
    pub path: String,
    /// The referrer URL (at most 1000 characters); only its http(s) host is kept: not when
    /// it is this site, and a referrer with no such host counts as none.
    #[schema(max_length = 1000)]
    pub referrer: Option<String>,
    /// Campaign source (at most 100; no control characters but white space around it,
    /// which is trimmed; the same for the other campaign fields).
    #[schema(
        max_length = 100,
        pattern = "^[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\x00-\\x1f\\x7f-\\x9f]*[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
    )]
    pub utm_source: Option<String>,
    /// Campaign medium (at most 100).
    #[schema(
        max_length = 100,
        pattern = "^[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\x00-\\x1f\\x7f-\\x9f]*[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
    )]
    pub utm_medium: Option<String>,
    /// Campaign name (at most 100).
    #[schema(
        max_length = 100,
        pattern = "^[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\x00-\\x1f\\x7f-\\x9f]*[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
    )]
    pub utm_campaign: Option<String>,
    /// Campaign term (at most 100).
    #[schema(
        max_length = 100,
        pattern = "^[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\x00-\\x1f\\x7f-\\x9f]*[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
    )]
    pub utm_term: Option<String>,
    /// Campaign content (at most 100).
    #[schema(
        max_length = 100,
        pattern = "^[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\x00-\\x1f\\x7f-\\x9f]*[\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
    )]
    pub utm_content: Option<String>,
    /// When it happened (RFC 3339); the server's time is used when this is more than a day
    /// earlier or in the future.
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
}

impl From<MetricEventRequest> for RawEvent {
    fn from(e: MetricEventRequest) -> Self {
        Self {
            kind: e.kind,
            name: e.name,
            path: e.path,
            referrer: e.referrer,
            utm_source: e.utm_source,
            utm_medium: e.utm_medium,
            utm_campaign: e.utm_campaign,
            utm_term: e.utm_term,
            utm_content: e.utm_content,
            occurred_at: e.occurred_at,
        }
    }
}

/// What became of an accepted batch.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricsBatchResponse {
    /// Events stored.
    pub accepted: usize,
    /// Events dropped because the sender is a known bot.
    pub dropped: usize,
}

/// Records a batch of page views and events. No address or user agent is stored: each
/// visitor is a hash salted per day.
#[utoipa::path(post, path = "/api/v1/metrics/events", tag = "analytics", request_body = MetricsBatchRequest,
    responses((status = 202, body = MetricsBatchResponse), (status = 400, description = "an invalid event, named by its index (`events[3].path`), or not 1 to 50 events; nothing stored", body = ErrorBody), (status = 429, description = "limit `metrics_events`", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn ingest_events(
    state: web::Data<AppState>,
    client: Client,
    req: HttpRequest,
    body: web::Json<MetricsBatchRequest>,
) -> Result<HttpResponse, ApiError> {
    state.guard().admit(&client, Action::MetricsEvents).await?;
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let visitor = Visitor {
        client: client.as_str().to_owned(),
        user_agent,
        site: ReferrerHost::from_host_header(req.connection_info().host()),
    };
    let raw: Vec<RawEvent> = body
        .into_inner()
        .events
        .into_iter()
        .map(Into::into)
        .collect();
    let outcome = state.analytics.ingest(&raw, &visitor).await?;
    Ok(HttpResponse::Accepted().json(MetricsBatchResponse {
        accepted: outcome.stored,
        dropped: outcome.dropped,
    }))
}

/// The days of a report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day, `YYYY-MM-DD` (UTC), required.
    #[param(value_type = String, format = Date)]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC), included, required; at most 366 days after `from`.
    #[param(value_type = String, format = Date)]
    pub to: Option<String>,
}

/// The days of a report and its page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PagedRangeQuery {
    /// First day, `YYYY-MM-DD` (UTC), required.
    #[param(value_type = String, format = Date)]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC), included, required; at most 366 days after `from`.
    #[param(value_type = String, format = Date)]
    pub to: Option<String>,
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
}

fn date_range(from: Option<&str>, to: Option<&str>) -> Result<DateRange, ApiError> {
    let mut e = FieldErrors::default();
    let mut day = |field: &str, raw: Option<&str>| match raw.map(str::trim) {
        None | Some("") => {
            e.push(field, "required", "a day as YYYY-MM-DD is required");
            None
        }
        Some(s) => e.check(
            field,
            "invalid",
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "must be a day as YYYY-MM-DD"),
        ),
    };
    let (from, to) = (day("from", from), day("to", to));
    let (Some(from), Some(to)) = (from, to) else {
        return Err(e.into_error());
    };
    DateRange::new(from, to).map_err(|err| ApiError::field("to", "invalid_range", err.to_string()))
}

/// A page's numbers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageStatsResponse {
    /// The page.
    pub path: String,
    /// Page views.
    pub views: u64,
    /// Daily unique visitors, summed over the days of the range.
    pub visitors: u64,
}

impl From<PageStats> for PageStatsResponse {
    fn from(p: PageStats) -> Self {
        Self {
            path: p.path,
            views: p.views,
            visitors: p.visitors,
        }
    }
}

/// A referring host's page views.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerStatsResponse {
    /// The host.
    pub host: String,
    /// Page views it sent.
    pub views: u64,
}

impl From<ReferrerStats> for ReferrerStatsResponse {
    fn from(r: ReferrerStats) -> Self {
        Self {
            host: r.host,
            views: r.views,
        }
    }
}

/// A campaign's page views.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStatsResponse {
    /// `utm_source` (empty when untagged).
    pub source: String,
    /// `utm_medium` (empty when untagged).
    pub medium: String,
    /// `utm_campaign` (empty when untagged).
    pub campaign: String,
    /// Page views.
    pub views: u64,
}

impl From<CampaignStats> for CampaignStatsResponse {
    fn from(c: CampaignStats) -> Self {
        Self {
            source: c.source,
            medium: c.medium,
            campaign: c.campaign,
            views: c.views,
        }
    }
}

/// One day's numbers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayStatsResponse {
    /// The UTC day.
    pub day: NaiveDate,
    /// Page views.
    pub views: u64,
    /// Unique visitors with a page view.
    pub visitors: u64,
}

impl From<DayStats> for DayStatsResponse {
    fn from(d: DayStats) -> Self {
        Self {
            day: d.day,
            views: d.views,
            visitors: d.visitors,
        }
    }
}

/// Every day of the range, days without views as zeros.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendResponse {
    /// The days, in order.
    pub data: Vec<DayStatsResponse>,
}

/// The funnel page view → add to cart → purchase, in visitor-days (see docs/analytics.md).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionsResponse {
    /// Visitor-days with a page view.
    pub viewers: u64,
    /// Visitor-days with an `add_to_cart` event.
    pub carts: u64,
    /// Visitor-days with a `purchase` event.
    pub purchases: u64,
    /// `carts / viewers` (0 without viewers), four decimals.
    pub cart_rate: f64,
    /// `purchases / carts` (0 without carts), four decimals.
    pub purchase_rate: f64,
    /// `purchases / viewers` (0 without viewers), four decimals.
    pub conversion_rate: f64,
}

/// Top pages by views (EDITOR, MANAGER, ADMIN).
#[utoipa::path(get, path = "/api/v1/analytics/pages", tag = "analytics", security(("bearer" = [])), params(PagedRangeQuery),
    responses((status = 200, body = PageResponse<PageStatsResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn top_pages(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<PagedRangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let range = date_range(query.from.as_deref(), query.to.as_deref())?;
    let page = state
        .analytics
        .pages(
            &auth.actor(),
            range,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, PageStatsResponse::from)))
}

/// Top referring hosts by views (EDITOR, MANAGER, ADMIN).
#[utoipa::path(get, path = "/api/v1/analytics/referrers", tag = "analytics", security(("bearer" = [])), params(PagedRangeQuery),
    responses((status = 200, body = PageResponse<ReferrerStatsResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn top_referrers(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<PagedRangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let range = date_range(query.from.as_deref(), query.to.as_deref())?;
    let page = state
        .analytics
        .referrers(
            &auth.actor(),
            range,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, ReferrerStatsResponse::from)))
}

/// Page views by campaign (UTM source, medium, campaign) (EDITOR, MANAGER, ADMIN).
#[utoipa::path(get, path = "/api/v1/analytics/campaigns", tag = "analytics", security(("bearer" = [])), params(PagedRangeQuery),
    responses((status = 200, body = PageResponse<CampaignStatsResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn campaigns(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<PagedRangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let range = date_range(query.from.as_deref(), query.to.as_deref())?;
    let page = state
        .analytics
        .campaigns(
            &auth.actor(),
            range,
            PageRequest::new(query.page, query.limit),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse::from_page(page, CampaignStatsResponse::from)))
}

/// Views and visitors of every day of the range (EDITOR, MANAGER, ADMIN).
#[utoipa::path(get, path = "/api/v1/analytics/trend", tag = "analytics", security(("bearer" = [])), params(RangeQuery),
    responses((status = 200, body = TrendResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn trend(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let range = date_range(query.from.as_deref(), query.to.as_deref())?;
    let days = state.analytics.trend(&auth.actor(), range).await?;
    Ok(HttpResponse::Ok().json(TrendResponse {
        data: days.into_iter().map(DayStatsResponse::from).collect(),
    }))
}

/// The funnel page view → add to cart → purchase (EDITOR, MANAGER, ADMIN).
#[utoipa::path(get, path = "/api/v1/analytics/conversions", tag = "analytics", security(("bearer" = [])), params(RangeQuery),
    responses((status = 200, body = ConversionsResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn conversions(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let range = date_range(query.from.as_deref(), query.to.as_deref())?;
    let funnel = state.analytics.conversions(&auth.actor(), range).await?;
    Ok(HttpResponse::Ok().json(ConversionsResponse {
        viewers: funnel.counts.viewers,
        carts: funnel.counts.carts,
        purchases: funnel.counts.purchases,
        cart_rate: funnel.cart_rate,
        purchase_rate: funnel.purchase_rate,
        conversion_rate: funnel.conversion_rate,
    }))
}
