//! What search engines read: `/robots.txt` (from settings) and the sitemap of everything
//! published (`/sitemap.xml`, split into `/sitemaps/{kind}-{n}.xml` files under a sitemap
//! index when the site outgrows one file).
//!
//! The sitemap lists the published products (`/products/{slug}`), the published CMS
//! pages (`/{slug}` in the default locale, `/{locale}/{slug}` in others; a page whose robots
//! directive says `noindex` is left out) and the published blog posts (`/blog/{slug}`, with
//! their last publication as lastmod). It is served from the catalog cache under a key
//! that carries the content cache's generation too (strong `ETag`, 304 on `If-None-Match`),
//! so it is built anew after any product write or page publish moves either generation on.

use std::sync::Arc;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use nexus_seo::{OrganizationLd, SeoSite, SitemapPart, SitemapPlan, SubjectKind, plan_sitemap};
use quick_xml::escape::escape;

use crate::cache::CachedBody;
use crate::http::error::ApiError;
use crate::http::seo::dto::SiteResponse;
use crate::settings::SiteSettings;
use crate::state::AppState;

/// How many items the sitemap reads per query.
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
    /// The site's name and base URL, for the SEO blocks of the public answers.
    seo: SeoSite,
    /// `/api/v1/content/site`, whose body only settings decide.
    organization: Arc<CachedBody>,
}

impl SiteFiles {
    /// The storefront's public base URL, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The site's name (`SITE_NAME`) and base URL.
    #[must_use]
    pub fn seo(&self) -> &SeoSite {
        &self.seo
    }

    /// The answer of `/api/v1/content/site`: the site's `Organization`.
    #[must_use]
    pub fn organization(&self) -> &CachedBody {
        &self.organization
    }

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
        let organization = OrganizationLd {
            name: settings.name.trim().to_owned(),
            url: base_url.clone(),
            logo: settings.logo_url.clone(),
            same_as: settings.same_as.clone(),
        };
        let site = SiteResponse {
            name: organization.name.clone(),
            url: organization.url.clone(),
            logo: organization.logo.clone(),
            same_as: organization.same_as.clone(),
            structured_data: organization.to_json(),
        };
        // Serializing plain strings and JSON values cannot fail.
        let organization = serde_json::to_vec(&site).unwrap_or_default();
        Self {
            seo: SeoSite::new(&settings.name, &base_url),
            base_url,
            max_urls: settings.sitemap_max_urls,
            robots: Arc::new(CachedBody::new(robots.into_bytes())),
            organization: Arc::new(CachedBody::new(organization)),
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

/// The sitemap: every published product and page with the time it was last published, as
/// one `<urlset>`, or a `<sitemapindex>` of `/sitemaps/{kind}-{n}.xml` files when there are
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
        .get_or_load_across(&state.content_cache, "sitemap:index", || async move {
            let mut counts = Vec::with_capacity(KINDS.len());
            for kind in KINDS {
                counts.push((kind, count(st, kind).await?));
            }
            match plan_sitemap(&counts, st.site.max_urls) {
                SitemapPlan::Single => urlset(st, None).await,
                SitemapPlan::Index(parts) => Ok(index(&st.site.base_url, &parts)),
            }
        })
        .await?;
    Ok(cached.respond_as(&req, xml()))
}

/// One file of a split sitemap (`products-1.xml`, ...), as `/sitemap.xml` lists them.
#[utoipa::path(get, path = "/sitemaps/{file}", tag = "site", params(("file" = String, Path, description = "`products-1.xml`, `pages-1.xml`, ..."), ("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
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
        .filter(|p| KINDS.contains(&p.kind))
        .ok_or_else(|| ApiError::not_found("No such sitemap"))?;
    let st = &state;
    let key = format!("sitemap:{}", part.name());
    let cached = state
        .catalog_cache
        .get_or_load_across(&state.content_cache, &key, || async move {
            let total = count(st, part.kind).await?;
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

/// The kinds of item the sitemap lists, in the order it lists them.
const KINDS: [SubjectKind; 3] = [SubjectKind::Product, SubjectKind::Page, SubjectKind::Post];

/// How many published items of `kind` there are.
async fn count(state: &AppState, kind: SubjectKind) -> Result<u64, ApiError> {
    Ok(match kind {
        SubjectKind::Product => state.products.count_published().await?,
        SubjectKind::Page => state.pages.count_published().await?,
        SubjectKind::Post => state.posts.count_published().await?,
    })
}

/// Writes the `<url>` lines of a run of items: passes over the first `skip`, then writes up
/// to `take`. An item left out of the sitemap (a `noindex` page) still takes its place in
/// the run, so the files of a split sitemap never overlap.
struct Run<'a> {
    base: &'a str,
    skip: u64,
    take: u64,
    out: String,
}

impl Run<'_> {
    /// Takes the next item (`None`: one that is not listed); false once the run is full.
    fn push(&mut self, item: Option<(String, DateTime<Utc>)>) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return true;
        }
        if self.take == 0 {
            return false;
        }
        self.take -= 1;
        if let Some((path, at)) = item {
            let loc = format!("{}{path}", self.base);
            self.out.push_str("  <url><loc>");
            self.out.push_str(&escape(loc.as_str()));
            self.out.push_str("</loc><lastmod>");
            self.out.push_str(&lastmod(at));
            self.out.push_str("</lastmod></url>\n");
        }
        self.take > 0
    }
}

/// The `<urlset>` of every published item (or of the run `part` names), each kind walked
/// in id order in batches.
async fn urlset(state: &AppState, part: Option<SitemapPart>) -> Result<Vec<u8>, ApiError> {
    let mut run = Run {
        base: &state.site.base_url,
        skip: part.map_or(0, |p| p.skip),
        take: part.map_or(u64::MAX, |p| p.take),
        out: String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        ),
    };
    match part {
        Some(part) => walk(state, part.kind, &mut run).await?,
        None => {
            for kind in KINDS {
                run.skip = 0;
                run.take = u64::MAX;
                walk(state, kind, &mut run).await?;
            }
        }
    }
    let mut out = run.out;
    out.push_str("</urlset>\n");
    Ok(out.into_bytes())
}

/// Feeds every published item of `kind` to `run` until it is full.
async fn walk(state: &AppState, kind: SubjectKind, run: &mut Run<'_>) -> Result<(), ApiError> {
    match kind {
        SubjectKind::Product => {
            let mut after = None;
            loop {
                let batch = state.products.published_after(after, WALK_BATCH).await?;
                let Some(last) = batch.last() else { break };
                after = Some(last.id);
                for product in &batch {
                    let path = format!("/products/{}", product.slug.as_str());
                    // A published product has its publish time; the last change stands in
                    // otherwise.
                    let at = product.published_at.unwrap_or(product.updated_at);
                    if !run.push(Some((path, at))) {
                        return Ok(());
                    }
                }
                if batch.len() < WALK_BATCH as usize {
                    break;
                }
            }
        }
        SubjectKind::Page => {
            let mut after = None;
            loop {
                let batch = state.pages.published_after(after, WALK_BATCH).await?;
                let Some((last, _)) = batch.last() else { break };
                after = Some(*last);
                for (_, published) in &batch {
                    let content = &published.content;
                    let listed = !content.seo.robots().starts_with("noindex");
                    let item = listed.then(|| (page_path(content), published.at));
                    if !run.push(item) {
                        return Ok(());
                    }
                }
                if batch.len() < WALK_BATCH as usize {
                    break;
                }
            }
        }
        SubjectKind::Post => {
            let mut after = None;
            loop {
                let batch = state.posts.published_after(after, WALK_BATCH).await?;
                let Some(last) = batch.last() else { break };
                after = Some(last.id);
                for post in &batch {
                    let path = format!("/blog/{}", post.slug);
                    let at = post.published_at.unwrap_or(post.updated_at);
                    if !run.push(Some((path, at))) {
                        return Ok(());
                    }
                }
                if batch.len() < WALK_BATCH as usize {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// A page's storefront path: `/{slug}` in the default locale, `/{locale}/{slug}` in others.
fn page_path(content: &nexus_content::PageContent) -> String {
    if content.locale == nexus_content::Locale::english() {
        format!("/{}", content.slug.as_str())
    } else {
        format!("/{}/{}", content.locale.as_str(), content.slug.as_str())
    }
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
