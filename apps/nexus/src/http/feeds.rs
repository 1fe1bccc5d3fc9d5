//! The blog's feeds: `/feed.xml` (RSS 2.0) and `/atom.xml` (Atom 1.0) of the latest
//! [`FEED_SIZE`] published posts, titled `<SITE_NAME> blog`, linking to the site
//! (`PUBLIC_BASE_URL`), with absolute links to the posts (`/blog/{slug}`). Served from the content cache (strong `ETag`, 304 on `If-None-Match`);
//! every post event moves it on.

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use nexus_content::PostView;
use nexus_seo::SeoSite;
use quick_xml::escape::escape;

use crate::http::error::ApiError;
use crate::state::AppState;

/// How many posts a feed lists.
pub const FEED_SIZE: u32 = 20;

/// Mounts `/feed.xml` and `/atom.xml`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/feed.xml").route(web::get().to(rss_feed)))
        .service(web::resource("/atom.xml").route(web::get().to(atom_feed)));
}

fn content_type(raw: &str) -> ContentType {
    ContentType(raw.parse().unwrap_or(actix_web::mime::TEXT_XML))
}

fn post_url(base: &str, view: &PostView) -> String {
    format!("{base}{}", nexus_content::post_path(&view.post.slug))
}

/// The feeds' title: `<SITE_NAME> blog`.
fn feed_title(site: &SeoSite) -> String {
    format!("{} blog", site.name())
}

fn published(view: &PostView) -> DateTime<Utc> {
    view.post.published_at.unwrap_or(view.post.updated_at)
}

/// The latest published posts as RSS 2.0.
#[utoipa::path(get, path = "/feed.xml", tag = "site", params(("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, description = "RSS 2.0 of the latest 20 published posts", content_type = "application/rss+xml", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified")))]
#[tracing::instrument(skip_all)]
pub async fn rss_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let st = &state;
    let cached = state
        .content_cache
        .get_or_load("feed:rss", || async move {
            let posts = st.posts.latest(FEED_SIZE).await?;
            Ok::<_, ApiError>(rss(st.site.seo(), &posts).into_bytes())
        })
        .await?;
    Ok(cached.respond_as(&req, content_type("application/rss+xml; charset=utf-8")))
}

/// The latest published posts as Atom 1.0.
#[utoipa::path(get, path = "/atom.xml", tag = "site", params(("If-None-Match" = Option<String>, Header, description = "ETags of answers held; a match gives 304")),
    responses((status = 200, description = "Atom 1.0 of the latest 20 published posts", content_type = "application/atom+xml", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified")))]
#[tracing::instrument(skip_all)]
pub async fn atom_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let st = &state;
    let cached = state
        .content_cache
        .get_or_load("feed:atom", || async move {
            let posts = st.posts.latest(FEED_SIZE).await?;
            Ok::<_, ApiError>(atom(st.site.seo(), &posts).into_bytes())
        })
        .await?;
    Ok(cached.respond_as(&req, content_type("application/atom+xml; charset=utf-8")))
}

fn push_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// RSS 2.0 of `posts` (newest first).
fn rss(site: &SeoSite, posts: &[PostView]) -> String {
    let base = site.base_url();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n",
    );
    push_element(&mut out, "title", &feed_title(site));
    push_element(&mut out, "link", base);
    push_element(
        &mut out,
        "description",
        &format!("The latest posts of {}", site.name()),
    );
    out.push_str(&format!(
        "<atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        escape(format!("{base}/feed.xml").as_str())
    ));
    if let Some(first) = posts.first() {
        push_element(&mut out, "lastBuildDate", &published(first).to_rfc2822());
    }
    out.push('\n');
    for view in posts {
        let link = post_url(base, view);
        out.push_str("<item>");
        push_element(&mut out, "title", &view.post.title);
        push_element(&mut out, "link", &link);
        out.push_str("<guid isPermaLink=\"true\">");
        out.push_str(&escape(link.as_str()));
        out.push_str("</guid>");
        push_element(&mut out, "pubDate", &published(view).to_rfc2822());
        push_element(&mut out, "description", &view.excerpt);
        for tag in &view.post.tags {
            push_element(&mut out, "category", tag);
        }
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Atom 1.0 of `posts` (newest first).
fn atom(site: &SeoSite, posts: &[PostView]) -> String {
    let base = site.base_url();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    push_element(&mut out, "title", &feed_title(site));
    push_element(&mut out, "id", &format!("{base}/blog"));
    out.push_str(&format!(
        "<link href=\"{}\"/><link rel=\"self\" href=\"{}\"/>",
        escape(base),
        escape(format!("{base}/atom.xml").as_str())
    ));
    let updated = posts
        .iter()
        .map(|v| v.post.updated_at.max(published(v)))
        .max()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    push_element(&mut out, "updated", &rfc3339(updated));
    out.push('\n');
    for view in posts {
        let link = post_url(base, view);
        out.push_str("<entry>");
        push_element(&mut out, "title", &view.post.title);
        push_element(&mut out, "id", &link);
        out.push_str(&format!("<link href=\"{}\"/>", escape(link.as_str())));
        push_element(&mut out, "published", &rfc3339(published(view)));
        push_element(
            &mut out,
            "updated",
            &rfc3339(view.post.updated_at.max(published(view))),
        );
        push_element(&mut out, "summary", &view.excerpt);
        out.push_str("<author>");
        push_element(
            &mut out,
            "name",
            view.author.as_ref().map_or("Team", |a| a.name.as_str()),
        );
        out.push_str("</author>");
        for tag in &view.post.tags {
            out.push_str(&format!("<category term=\"{}\"/>", escape(tag.as_str())));
        }
        out.push_str("</entry>\n");
    }
    out.push_str("</feed>\n");
    out
}
