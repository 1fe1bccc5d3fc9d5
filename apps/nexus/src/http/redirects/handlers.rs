//! `/api/v1/admin/redirects...` (editors, managers and administrators: `seo.redirects`) and
//! the fallback that answers unmatched site paths with the rules.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use nexus_kernel::PageRequest;
use nexus_seo::{Redirect, RedirectKind, RedirectTarget};
use uuid::Uuid;

use super::dto::{
    CreateRedirectRequest, RedirectRuleResponse, RedirectsQuery, UpdateRedirectRequest,
    VersionQuery,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, IfMatch, ValidatedJson, etag};
use crate::http::page::PageResponse as ListResponse;
use crate::state::AppState;

/// The path prefixes the service answers itself: the fallback never redirects them, and no
/// rule may have a source under one.
pub const RESERVED_PREFIXES: &[&str] = &[
    "/api/",
    "/api-docs",
    "/docs",
    "/health",
    "/metrics",
    "/sitemap",
    "/robots.txt",
    "/feed.xml",
    "/atom.xml",
];

/// Mounts the routes (under `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/redirects")
            .route(web::get().to(list_redirects))
            .route(web::post().to(create_redirect)),
    )
    .service(
        web::resource("/admin/redirects/{id}")
            .route(web::get().to(get_redirect))
            .route(web::patch().to(update_redirect))
            .route(web::delete().to(delete_redirect)),
    );
}

fn rule_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse::<Uuid>()
        .map_err(|_| ApiError::not_found("No such redirect rule"))
}

fn staff(r: nexus_seo::RedirectRule) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag(r.version))
        .json(RedirectRuleResponse::from(r))
}

/// Redirect rules by source path; `q` keeps those whose source or target contains it
/// (`seo.redirects`).
#[utoipa::path(get, path = "/api/v1/admin/redirects", tag = "seo", security(("bearer" = [])), params(RedirectsQuery),
    responses((status = 200, body = ListResponse<RedirectRuleResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_redirects(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<RedirectsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.limit);
    let found = state
        .redirects
        .list(&auth.actor(), query.q()?, page)
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(found, RedirectRuleResponse::from)))
}

/// Creates a redirect rule (version 1) (`seo.redirects`). A source another rule has is 409
/// `source_taken`; a rule that closes a loop is 409 `redirect_loop` and one that makes a
/// chain of more than 5 redirects 409 `redirect_chain_too_long` (the message names the
/// paths); past 10,000 rules, 409 `too_many_redirects`.
#[utoipa::path(post, path = "/api/v1/admin/redirects", tag = "seo", security(("bearer" = [])), request_body = CreateRedirectRequest,
    responses((status = 201, body = RedirectRuleResponse, headers(("ETag" = String, description = "the version"))), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "source taken, loop, chain too long or too many rules", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_redirect(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidatedJson<CreateRedirectRequest>,
) -> Result<HttpResponse, ApiError> {
    let rule = state
        .redirects
        .create(&auth.actor(), body.0.try_into()?)
        .await?;
    state.redirect_table.mark_stale();
    Ok(HttpResponse::Created()
        .insert_header(etag(rule.version))
        .json(RedirectRuleResponse::from(rule)))
}

/// One redirect rule (`seo.redirects`).
#[utoipa::path(get, path = "/api/v1/admin/redirects/{id}", tag = "seo", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RedirectRuleResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn get_redirect(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(staff(
        state.redirects.get(&auth.actor(), rule_id(&id)?).await?,
    ))
}

/// Changes a redirect rule; send the version read (`version` or `If-Match`): none is 428,
/// a stale one 409 `conflict`. Checked like a new rule (`seo.redirects`).
#[utoipa::path(patch, path = "/api/v1/admin/redirects/{id}", tag = "seo", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read")), request_body = UpdateRedirectRequest,
    responses((status = 200, body = RedirectRuleResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "stale version, source taken, loop or chain too long", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn update_redirect(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    body: ValidatedJson<UpdateRedirectRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = rule_id(&id)?;
    let expected = if_match.or_version(body.0.version)?;
    let rule = state
        .redirects
        .update(&auth.actor(), id, expected, body.0.try_into()?)
        .await?;
    state.redirect_table.mark_stale();
    Ok(staff(rule))
}

/// Deletes a redirect rule at the version read (`version` or `If-Match`): none is 428, a
/// stale one 409 `conflict` (`seo.redirects`).
#[utoipa::path(delete, path = "/api/v1/admin/redirects/{id}", tag = "seo", security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version read"), VersionQuery),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 428, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn delete_redirect(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    if_match: IfMatch,
    query: web::Query<VersionQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = rule_id(&id)?;
    let expected = if_match.or_version(query.version)?;
    state.redirects.delete(&auth.actor(), id, expected).await?;
    state.redirect_table.mark_stale();
    Ok(HttpResponse::NoContent().finish())
}

/// Whether the fallback may answer `path` with a rule.
fn redirectable(path: &str) -> bool {
    !RESERVED_PREFIXES
        .iter()
        .any(|prefix| path.starts_with(prefix) || path == prefix.trim_end_matches('/'))
}

/// `target` with the request's `query` added (for a path of this site only), before any
/// fragment.
fn location(target: &RedirectTarget, query: &str) -> String {
    match target {
        RedirectTarget::Path(path) if !query.is_empty() => {
            let (head, fragment) = match path.split_once('#') {
                Some((head, fragment)) => (head, Some(fragment)),
                None => (path.as_str(), None),
            };
            let joiner = if head.contains('?') { '&' } else { '?' };
            let mut out = format!("{head}{joiner}{query}");
            if let Some(fragment) = fragment {
                out.push('#');
                out.push_str(fragment);
            }
            out
        }
        other => other.as_str().to_owned(),
    }
}

/// The answer of a rule: 301 or 302 with `Location`, or 410 in the uniform error body.
fn answer(rule: &Redirect, query: &str) -> Result<HttpResponse, ApiError> {
    let Some(target) = rule.to() else {
        return Err(ApiError::gone());
    };
    let location = location(target, query);
    let mut res = match rule.kind() {
        RedirectKind::Permanent => HttpResponse::MovedPermanently(),
        _ => HttpResponse::Found(),
    };
    // A browser keeps a 301 for as long as it is told (and for ever when not told), so it
    // is told an hour: a rule an editor changes or deletes takes hold within it.
    let cache = if rule.kind() == RedirectKind::Permanent {
        "public, max-age=3600"
    } else {
        "no-cache"
    };
    Ok(res
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, cache))
        .finish())
}

/// What no route matched: a GET or HEAD of a site path (not an API, probe, metrics, docs,
/// sitemap, robots or feed path) that a redirect rule's source names gets the rule's
/// answer; anything else the uniform 404 `route_not_found`.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let method = req.method();
    if (method == Method::GET || method == Method::HEAD)
        && redirectable(req.path())
        && let Some(rule) = state.redirect_table.lookup(req.path()).await
    {
        return answer(&rule, req.query_string());
    }
    Err(ApiError::route_not_found())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_kept_on_site_paths_before_any_fragment() {
        let path = |p: &str| RedirectTarget::Path(p.to_owned());
        assert_eq!(location(&path("/new"), "a=1"), "/new?a=1");
        assert_eq!(location(&path("/new?x=2"), "a=1"), "/new?x=2&a=1");
        assert_eq!(location(&path("/new#top"), "a=1"), "/new?a=1#top");
        assert_eq!(location(&path("/new"), ""), "/new");
        let away = RedirectTarget::Url("https://x.example/p".to_owned());
        assert_eq!(location(&away, "a=1"), "https://x.example/p");
    }

    #[test]
    fn service_paths_are_never_redirected() {
        for path in [
            "/api/v1/x",
            "/api",
            "/health/live",
            "/metrics",
            "/sitemap.xml",
            "/docs/",
            "/feed.xml",
        ] {
            assert!(!redirectable(path), "{path}");
        }
        for path in ["/old", "/", "/apis", "/blog/x"] {
            assert!(redirectable(path), "{path}");
        }
    }
}
