//! What search engines read: `/robots.txt` from settings, and the sitemap of the published
//! products and pages, one file or an index of files, valid XML listing exactly what is
//! published and rebuilt after a write.

use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, eventually, expect_json, header, product_body, spawn_app_with,
};
use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::Response;
use serde_json::{Value, json};

const BASE: &str = "https://shop.example";

async fn get(app: &TestApp, path: &str, if_none_match: Option<&str>) -> Response {
    let mut req = app.request(reqwest::Method::GET, path, NO_TOKEN);
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    req.send().await.expect("the request is answered")
}

/// The text of a 200 answer of `content_type`, and its `ETag`.
async fn text(app: &TestApp, path: &str, content_type: &str) -> (String, String) {
    let res = get(app, path, None).await;
    assert_eq!(res.status(), 200, "GET {path}");
    let got = header(&res, "content-type").unwrap_or_default();
    assert!(got.starts_with(content_type), "GET {path}: {got}");
    let etag = header(&res, "etag").expect("an ETag");
    (res.text().await.expect("a body"), etag)
}

/// Parses `xml` strictly: the root element's name, and the text of every `<loc>` and
/// `<lastmod>` in document order.
fn parse(xml: &str) -> (String, Vec<String>, Vec<String>) {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut root, mut locs, mut lastmods) = (None, Vec::new(), Vec::new());
    let mut current = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if root.is_none() {
                    let ns = e
                        .attributes()
                        .filter_map(Result::ok)
                        .find(|a| a.key.as_ref() == b"xmlns")
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                    assert_eq!(
                        ns.as_deref(),
                        Some("http://www.sitemaps.org/schemas/sitemap/0.9")
                    );
                    root = Some(name.clone());
                }
                current = name;
            }
            Event::Text(t) => {
                let value = t.decode().expect("text").into_owned();
                match current.as_str() {
                    "loc" => locs.push(value),
                    "lastmod" => lastmods.push(value),
                    _ => {}
                }
            }
            Event::End(_) => current.clear(),
            Event::Eof => break,
            _ => {}
        }
    }
    (root.expect("a root element"), locs, lastmods)
}

async fn app_with(extra: &[(&str, &str)]) -> (TestApp, Signed) {
    let mut settings = vec![("PUBLIC_BASE_URL", BASE), ("WORKER_POLL_MS", "50")];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    let manager = app.sign_in_as(Role::Manager).await;
    (app, manager)
}

fn product_url(product: &serde_json::Value) -> String {
    format!(
        "{BASE}/products/{}",
        product["slug"].as_str().expect("a slug")
    )
}

#[tokio::test]
async fn robots_txt_keeps_crawlers_out_of_the_configured_paths_and_names_the_sitemap() {
    let (app, _) = app_with(&[]).await;

    let (robots, etag) = text(&app, "/robots.txt", "text/plain").await;

    assert!(robots.starts_with("User-agent: *\n"), "{robots}");
    for path in ["/api/", "/admin/", "/cart", "/checkout", "/account"] {
        assert!(
            robots.contains(&format!("\nDisallow: {path}\n")),
            "{robots}"
        );
    }
    assert!(
        robots.ends_with(&format!("\nSitemap: {BASE}/sitemap.xml\n")),
        "{robots}"
    );
    let again = get(&app, "/robots.txt", Some(&etag)).await;
    assert_eq!(again.status(), 304);

    let (staging, _) = app_with(&[("ROBOTS_DISALLOW", "/")]).await;
    let (robots, _) = text(&staging, "/robots.txt", "text/plain").await;
    assert!(robots.contains("\nDisallow: /\n"), "{robots}");
    assert!(!robots.contains("Disallow: /api/"), "{robots}");
}

#[tokio::test]
async fn the_sitemap_lists_exactly_the_published_products_and_follows_publishing() {
    let (app, manager) = app_with(&[]).await;
    let first = app
        .published_product(&manager, "Sitemap guide one", 9_900, b"%PDF-1.4 one")
        .await;
    let second = app
        .published_product(&manager, "Sitemap guide & two", 9_900, b"%PDF-1.4 two")
        .await;
    let draft = app
        .create_product(&manager, &product_body("Sitemap draft", 1_000))
        .await;

    let (xml, etag) = text(&app, "/sitemap.xml", "application/xml").await;
    let (root, mut locs, lastmods) = parse(&xml);

    assert_eq!(root, "urlset");
    locs.sort();
    let mut expected = vec![product_url(&first), product_url(&second)];
    expected.sort();
    assert_eq!(locs, expected);
    assert!(!xml.contains(draft["slug"].as_str().expect("a slug")));
    assert_eq!(lastmods.len(), 2);
    for at in &lastmods {
        chrono::DateTime::parse_from_rfc3339(at).expect("W3C datetime lastmod");
    }
    assert_eq!(get(&app, "/sitemap.xml", Some(&etag)).await.status(), 304);

    // Unpublishing one takes it out once the cache's generation moves on.
    let id = second["id"].as_str().expect("an id");
    let res = app
        .post_json(
            &format!("/api/v1/products/{id}/unpublish"),
            &serde_json::json!({}),
            &manager,
        )
        .await;
    assert_eq!(res.status(), 200);
    let fresh = eventually("the sitemap to drop the unpublished product", async || {
        let res = get(&app, "/sitemap.xml", Some(&etag)).await;
        (res.status() == 200).then_some(())?;
        let xml = res.text().await.ok()?;
        let (_, locs, _) = parse(&xml);
        (locs == [product_url(&first)]).then_some(locs)
    })
    .await;
    assert_eq!(fresh.len(), 1);
}

#[tokio::test]
async fn a_site_larger_than_one_file_is_an_index_of_numbered_files() {
    let (app, manager) = app_with(&[("SITEMAP_MAX_URLS", "2")]).await;
    let mut expected = Vec::new();
    for n in 1..=3 {
        let product = app
            .published_product(
                &manager,
                &format!("Indexed guide {n}"),
                9_900,
                b"%PDF-1.4 n",
            )
            .await;
        expected.push(product_url(&product));
    }
    expected.sort();

    let (xml, _) = text(&app, "/sitemap.xml", "application/xml").await;
    let (root, files, _) = parse(&xml);

    assert_eq!(root, "sitemapindex");
    assert_eq!(
        files,
        [
            format!("{BASE}/sitemaps/products-1.xml"),
            format!("{BASE}/sitemaps/products-2.xml")
        ]
    );
    let mut listed = Vec::new();
    for (file, count) in [("products-1", 2), ("products-2", 1)] {
        let (xml, _) = text(&app, &format!("/sitemaps/{file}.xml"), "application/xml").await;
        let (root, locs, _) = parse(&xml);
        assert_eq!(root, "urlset");
        assert_eq!(locs.len(), count, "{file}: {locs:?}");
        listed.extend(locs);
    }
    listed.sort();
    assert_eq!(listed, expected, "every product once, in one file");
    for missing in [
        "products-3.xml",
        "products-0.xml",
        "products-1",
        "users-1.xml",
        "pages-x.xml",
    ] {
        let res = get(&app, &format!("/sitemaps/{missing}"), None).await;
        assert_eq!(res.status(), 404, "{missing}");
    }
}

/// Creates and publishes a page; answers it as published.
async fn published_page(
    app: &TestApp,
    who: &Signed,
    slug: &str,
    locale: &str,
    robots: &str,
) -> Value {
    let body = json!({
        "key": format!("{slug}-{locale}"),
        "slug": slug,
        "locale": locale,
        "title": format!("Page {slug}"),
        "blocks": [{"type": "richText", "text": "Hello"}],
        "seo": {"robots": robots},
    });
    let page = expect_json(app.post_json("/api/v1/admin/pages", &body, who).await, 201).await;
    publish_page(app, who, &page, "publish").await
}

async fn publish_page(app: &TestApp, who: &Signed, page: &Value, action: &str) -> Value {
    let id = page["id"].as_str().expect("a page id");
    let res = app
        .post_json(
            &format!("/api/v1/admin/pages/{id}/{action}"),
            &json!({ "version": page["version"] }),
            who,
        )
        .await;
    expect_json(res, 200).await
}

#[tokio::test]
async fn the_sitemap_lists_the_published_indexable_pages_by_locale_and_follows_publishing() {
    let (app, manager) = app_with(&[]).await;
    let product = app
        .published_product(&manager, "Sitemap guide with pages", 9_900, b"%PDF-1.4 p")
        .await;
    let about = published_page(&app, &manager, "about", "en", "index,follow").await;
    published_page(&app, &manager, "a-propos", "fr", "index,follow").await;
    published_page(&app, &manager, "thanks", "en", "noindex,follow").await;
    let draft = json!({
        "key": "draft-page", "slug": "draft-page", "title": "Draft",
        "blocks": [{"type": "richText", "text": "Not yet"}],
    });
    expect_json(
        app.post_json("/api/v1/admin/pages", &draft, &manager).await,
        201,
    )
    .await;

    let (xml, etag) = text(&app, "/sitemap.xml", "application/xml").await;
    let (root, mut locs, lastmods) = parse(&xml);

    assert_eq!(root, "urlset");
    locs.sort();
    let mut expected = vec![
        product_url(&product),
        format!("{BASE}/about"),
        format!("{BASE}/fr/a-propos"),
    ];
    expected.sort();
    assert_eq!(locs, expected, "published, indexable pages only: {xml}");
    assert_eq!(lastmods.len(), 3);

    // Unpublishing a page takes it out once the content cache's generation moves on.
    publish_page(&app, &manager, &about, "unpublish").await;
    eventually("the sitemap to drop the unpublished page", async || {
        let res = get(&app, "/sitemap.xml", Some(&etag)).await;
        (res.status() == 200).then_some(())?;
        let (_, locs, _) = parse(&res.text().await.ok()?);
        (locs.len() == 2 && !locs.contains(&format!("{BASE}/about"))).then_some(())
    })
    .await;

    // Split, pages get files of their own.
    let (split, manager) = app_with(&[("SITEMAP_MAX_URLS", "1")]).await;
    split
        .published_product(&manager, "Split guide", 9_900, b"%PDF-1.4 s")
        .await;
    published_page(&split, &manager, "about", "en", "index,follow").await;
    let (xml, _) = text(&split, "/sitemap.xml", "application/xml").await;
    let (root, files, _) = parse(&xml);
    assert_eq!(root, "sitemapindex");
    assert_eq!(
        files,
        [
            format!("{BASE}/sitemaps/products-1.xml"),
            format!("{BASE}/sitemaps/pages-1.xml")
        ]
    );
    let (xml, _) = text(&split, "/sitemaps/pages-1.xml", "application/xml").await;
    assert_eq!(parse(&xml).1, [format!("{BASE}/about")]);
    assert_eq!(
        get(&split, "/sitemaps/pages-2.xml", None).await.status(),
        404
    );
    assert_eq!(
        get(&split, "/sitemaps/posts-1.xml", None).await.status(),
        404
    );
}

#[tokio::test]
async fn the_site_answer_is_the_organization_from_settings_with_an_etag() {
    let app = spawn_app_with(&[
        ("PUBLIC_BASE_URL", "https://shop.example/"),
        ("SITE_NAME", "Acme Guides"),
        ("SITE_LOGO_URL", "https://cdn.example/logo.png"),
        (
            "SITE_SAME_AS",
            "https://x.example/acme,https://social.example/acme",
        ),
    ])
    .await;
    let res = get(&app, "/api/v1/content/site", None).await;
    assert_eq!(res.status(), 200);
    let tag = header(&res, "etag").expect("an ETag");
    assert!(
        header(&res, "cache-control")
            .unwrap_or_default()
            .starts_with("public")
    );
    let site: Value = res.json().await.expect("JSON");
    assert_eq!(site["name"], "Acme Guides");
    assert_eq!(site["url"], BASE);
    assert_eq!(site["logo"], "https://cdn.example/logo.png");
    let same_as = json!(["https://x.example/acme", "https://social.example/acme"]);
    assert_eq!(site["sameAs"], same_as);
    let org = &site["structuredData"];
    assert_eq!(org["@context"], "https://schema.org");
    assert_eq!(org["@type"], "Organization");
    assert_eq!(org["name"], "Acme Guides");
    assert_eq!(org["url"], BASE);
    assert_eq!(org["logo"], "https://cdn.example/logo.png");
    assert_eq!(org["sameAs"], same_as);

    let res = get(&app, "/api/v1/content/site", Some(&tag)).await;
    assert_eq!(res.status(), 304);
    assert_eq!(header(&res, "etag").as_deref(), Some(tag.as_str()));
}

#[tokio::test]
async fn the_site_answer_defaults_to_the_product_name_with_no_logo_or_profiles() {
    let app = spawn_app_with(&[("PUBLIC_BASE_URL", BASE)]).await;
    let site = expect_json(app.get("/api/v1/content/site", NO_TOKEN).await, 200).await;
    assert_eq!(site["name"], "Customer Nexus Hub");
    assert!(site["logo"].is_null());
    assert_eq!(site["sameAs"], json!([]));
    let org = &site["structuredData"];
    assert!(
        org.get("logo").is_none() && org.get("sameAs").is_none(),
        "{org}"
    );
}
