//! What search engines read: `/robots.txt` (from settings) and the sitemap of everything
//! published (`/sitemap.xml`, split into `/sitemaps/{kind}-{n}.xml` files under a sitemap
//! index when the site outgrows one file).
//!
//! The sitemap is served from the catalog cache (strong `ETag`, 304 on `If-None-Match`) and
//! built anew after any product write moves the cache's generation on.

use std::sync::Arc;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use nexus_seo::{SitemapPart, SitemapPlan, SubjectKind, plan_sitemap};
use quick_xml::escape::escape;

use crate::cache::CachedBody;
use crate::http::error::ApiError;
use crate::settings::SiteSettings;
use crate::state::AppState;

/// How many products the sitemap reads per query.
const WALK_BATCH: u32 = 500;

/// The fixed answers and the shape of the sitemap, made once at start.
#[derive(Debug)]
pub struct SiteFiles {
    /// The storefront's public base URL, without a trailing slash.
    base_url: String,
    /// The most URLs in one sitemap file.
    max_urls: u64,
    /// `/robots.txt`, whose text only settings decide.
    robots: Arc<CachedBody>,
}

impl SiteFiles {
    /// The files of a storefront at `base_url` (`PUBLIC_BASE_URL`).
    #[must_use]
    pub fn new(base_url: &str, settings: &SiteSettings) -> Self {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let mut robots = String::from("User-agent: *\n");
        if settings.robots_disallow.is_empty() {
            robots.push_str("Disallow:\n");
        }
        for path in &settings.robots_disallow {
            robots.push_str("Disallow: ");
            robots.push_str(path);
            robots.push('\n');
        }
        robots.push_str(&format!("\nSitemap: {base_url}/sitemap.xml\n"));
        Self {
            base_url,
            max_urls: settings.sitemap_max_urls,
            robots: Arc::new(CachedBody::new(robots.into_bytes())),
        }
    }
}

/// Mounts `/robots.txt`, `/sitemap.xml` and `/sitemaps/{file}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/robots.txt").route(web::get().to(robots)))
        .service(web::resource("/sitemap.xml").route(web::get().to(sitemap)))
        .service(web::resource("/sitemaps/{file}").route(web::get().to(sitemap_part)));
}

/// The crawling rules: `Disallow` lines from `ROBOTS_DISALLOW` and where the sitemap is.
#[utoipa::path(get, path = "/robots.txt", tag = "site", params(("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, description = "robots.txt", content_type = "text/plain", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified")))]
pub async fn robots(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    state.site.robots.respond_as(&req, ContentType::plaintext())
}

/// The sitemap: every published product with the time it was last published, as one
/// `<urlset>`, or a `<sitemapindex>` of `/sitemaps/{kind}-{n}.xml` files when there are
/// more than `SITEMAP_MAX_URLS`.
#[utoipa::path(get, path = "/sitemap.xml", tag = "site", params(("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, description = "a sitemap or sitemap index (sitemaps.org 0.9)", content_type = "application/xml", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified")))]
#[tracing::instrument(skip_all)]
pub async fn sitemap(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let st = &state;
    let cached = state
        .catalog_cache
        .get_or_load("sitemap:index", || async move {
            let products = st.products.count_published().await?;
            let files = &st.site;
            match plan_sitemap(&[(SubjectKind::Product, products)], files.max_urls) {
                SitemapPlan::Single => urlset(st, None).await,
                SitemapPlan::Index(parts) => Ok(index(&files.base_url, &parts)),
            }
        })
        .await?;
    Ok(cached.respond_as(&req, xml()))
}

/// One file of a split sitemap (`products-1.xml`, ...), as `/sitemap.xml` lists them.
#[utoipa::path(get, path = "/sitemaps/{file}", tag = "site", params(("file" = String, Path, description = "`products-1.xml`, ..."), ("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, description = "a sitemap (sitemaps.org 0.9)", content_type = "application/xml", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = crate::http::error::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn sitemap_part(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let part = file
        .strip_suffix(".xml")
        .and_then(|name| SitemapPart::parse(name, state.site.max_urls))
        .filter(|p| p.kind == SubjectKind::Product)
        .ok_or_else(|| ApiError::not_found("No such sitemap"))?;
    let st = &state;
    let cached = state
        .catalog_cache
        .get_or_load(&format!("sitemap:{}", part.name()), || async move {
            let total = st.products.count_published().await?;
            if part.skip >= total {
                return Err(ApiError::not_found("No such sitemap"));
            }
            urlset(st, Some(part)).await
        })
        .await?;
    Ok(cached.respond_as(&req, xml()))
}

fn xml() -> ContentType {
    ContentType(mime_xml())
}

fn mime_xml() -> actix_web::mime::Mime {
    "application/xml; charset=utf-8"
        .parse()
        .unwrap_or(actix_web::mime::TEXT_XML)
}

fn lastmod(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The `<urlset>` of the published products (all, or the run `part` names), walked in id
/// order in batches.
async fn urlset(state: &AppState, part: Option<SitemapPart>) -> Result<Vec<u8>, ApiError> {
    let (mut skip, mut take) = part.map_or((0, u64::MAX), |p| (p.skip, p.take));
    let base = &state.site.base_url;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut after = None;
    while take > 0 {
        let batch = state.products.published_after(after, WALK_BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        for product in &batch {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if take == 0 {
                break;
            }
            take -= 1;
            let loc = format!("{base}/products/{}", product.slug.as_str());
            out.push_str("  <url><loc>");
            out.push_str(&escape(loc.as_str()));
            out.push_str("</loc><lastmod>");
            // A published product has its publish time; the last change stands in otherwise.
            out.push_str(&lastmod(product.published_at.unwrap_or(product.updated_at)));
            out.push_str("</lastmod></url>\n");
        }
        if batch.len() < WALK_BATCH as usize {
            break;
        }
    }
    out.push_str("</urlset>\n");
    Ok(out.into_bytes())
}

fn index(base: &str, parts: &[SitemapPart]) -> Vec<u8> {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for part in parts {
        let loc = format!("{base}/sitemaps/{}.xml", part.name());
        out.push_str("  <sitemap><loc>");
        out.push_str(&escape(loc.as_str()));
        out.push_str("</loc></sitemap>\n");
    }
    out.push_str("</sitemapindex>\n");
    out.into_bytes()
}
