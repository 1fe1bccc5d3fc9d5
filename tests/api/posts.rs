//! The blog end to end: posts written by team members, published → public read with ETag
//! and 304 → an edit gives a new ETag; a stale version is 409; drafts are never public; the
//! worker publishes scheduled posts; Markdown bodies come out sanitized; an old slug answers
//! 301; the tag filter, search and pagination; the RSS and Atom feeds and the sitemap list
//! exactly the published posts, the feeds titled after the site; a post's SEO block and its
//! `BlogPosting`. Search: words (stemmed, word beginnings) ranked title first, combined with
//! the tag, odd input answered 200; and with Meilisearch, the `index_post` subscriber, the
//! posts index searched and `nexus reindex`.

use nexus_tests::{
    NO_TOKEN, PNG, Role, SearchIndexFake, Signed, TestApp, assert_error, detail_fields, etag,
    eventually, expect_json, header, spawn_app_with,
};
use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::Response;
use serde_json::{Value, json};

const BASE: &str = "https://shop.example";

async fn app() -> (TestApp, Signed, Value) {
    app_with(&[]).await
}

async fn app_with(extra: &[(&str, &str)]) -> (TestApp, Signed, Value) {
    let mut vars = vec![("PUBLIC_BASE_URL", BASE), ("WORKER_POLL_MS", "50")];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let res = app
        .post_json(
            "/api/v1/admin/team",
            &json!({"name": "Asha Rao", "roleTitle": "Editor"}),
            &editor,
        )
        .await;
    let author = expect_json(res, 201).await;
    (app, editor, author)
}

async fn create(app: &TestApp, who: &Signed, author: &Value, slug: &str, tags: &[&str]) -> Value {
    let res = app
        .post_json(
            "/api/v1/admin/posts",
            &json!({
                "slug": slug,
                "title": format!("Post {slug}"),
                "body": format!("# {slug}\n\nSome **words** about {slug}."),
                "tags": tags,
                "authorId": author["id"],
            }),
            who,
        )
        .await;
    expect_json(res, 201).await
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

async fn act(app: &TestApp, who: &Signed, post: &Value, action: &str) -> Value {
    let res = app
        .post_json(
            &format!("/api/v1/admin/posts/{}/{action}", id(post)),
            &json!({ "version": post["version"] }),
            who,
        )
        .await;
    expect_json(res, 200).await
}

async fn get(app: &TestApp, path: &str, if_none_match: Option<&str>) -> Response {
    let mut req = app.request(reqwest::Method::GET, path, NO_TOKEN);
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    req.send().await.expect("answered")
}

fn slugs(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["slug"].as_str().expect("slug").to_owned())
        .collect()
}

#[tokio::test]
async fn a_published_post_is_public_with_etags_and_an_edit_shows_at_once() {
    let (app, editor, author) = app().await;
    let post = create(&app, &editor, &author, "hello", &["news"]).await;
    assert_eq!(post["status"], "DRAFT");
    assert_error(
        get(&app, "/api/v1/content/posts/hello", None).await,
        404,
        "not_found",
    )
    .await;

    let published = act(&app, &editor, &post, "publish").await;
    assert_eq!(published["status"], "PUBLISHED");
    let res = get(&app, "/api/v1/content/posts/hello", None).await;
    let tag = header(&res, "etag").expect("an ETag");
    let body = expect_json(res, 200).await;
    assert_eq!(body["title"], "Post hello");
    assert!(
        body["html"]
            .as_str()
            .expect("html")
            .contains("<strong>words</strong>")
    );
    assert_eq!(body["excerpt"], "hello Some words about hello.");
    assert_eq!(body["readingMinutes"], 1);
    assert_eq!(body["author"]["name"], "Asha Rao");
    assert_eq!(
        get(&app, "/api/v1/content/posts/hello", Some(&tag))
            .await
            .status(),
        304
    );

    // A stale version is a conflict; the current one changes the public answer.
    let path = format!("/api/v1/admin/posts/{}", id(&post));
    assert_error(
        app.patch_json(&path, &json!({"title": "Late"}), &editor, Some("\"1\""))
            .await,
        409,
        "conflict",
    )
    .await;
    let res = app
        .patch_json(
            &path,
            &json!({"title": "Hello again", "excerpt": "Short."}),
            &editor,
            Some(&etag(&published["version"])),
        )
        .await;
    expect_json(res, 200).await;
    let body = eventually("the edit is public", async || {
        let res = get(&app, "/api/v1/content/posts/hello", Some(&tag)).await;
        (res.status() == 200).then_some(())?;
        Some(expect_json(res, 200).await)
    })
    .await;
    assert_eq!(body["title"], "Hello again");
    assert_eq!(body["excerpt"], "Short.");

    // An author must be a team member.
    let res = app
        .post_json(
            "/api/v1/admin/posts",
            &json!({"slug": "orphan", "title": "x", "authorId": uuid::Uuid::now_v7()}),
            &editor,
        )
        .await;
    let err = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&err), ["authorId"]);
    // A published post is unpublished before it is deleted.
    let current = expect_json(app.get(&path, &editor).await, 200).await;
    let del = app.delete(&path, &editor).await;
    assert_error(del, 409, "invalid_transition").await;
    let draft = act(&app, &editor, &current, "unpublish").await;
    assert_eq!(draft["status"], "DRAFT");
    let gone = eventually("the unpublished post leaves the public", async || {
        let res = get(&app, "/api/v1/content/posts/hello", None).await;
        (res.status() == 404).then_some(res)
    })
    .await;
    assert_error(gone, 404, "not_found").await;
    assert_eq!(app.delete(&path, &editor).await.status(), 204);
}

#[tokio::test]
async fn markdown_bodies_are_sanitized_and_external_links_marked() {
    let (app, editor, author) = app().await;
    let body = concat!(
        "<script>alert(1)</script>\n\n",
        "<img src=x onerror=alert(1)>\n\n",
        "[click](javascript:alert(1)) and [out](https://elsewhere.example/x) and [home](/blog)\n\n",
        "<a href=\"https://evil.example\" onclick=\"alert(1)\">x</a>\n\n",
        "![pic](javascript:alert(1))\n",
    );
    let res = app
        .post_json(
            "/api/v1/admin/posts",
            &json!({"slug": "xss", "title": "XSS", "body": body, "authorId": author["id"]}),
            &editor,
        )
        .await;
    let post = expect_json(res, 201).await;
    act(&app, &editor, &post, "publish").await;
    let public = expect_json(get(&app, "/api/v1/content/posts/xss", None).await, 200).await;
    let html = public["html"].as_str().expect("html").to_lowercase();
    // Every `<` left is a real tag (an author's `<` comes out as `&lt;` text).
    let tags: Vec<&str> = html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or_default())
        .collect();
    for tag in &tags {
        for bad in [
            "script",
            "onerror",
            "onclick",
            "javascript:",
            "evil.example",
            "style",
        ] {
            assert!(!tag.contains(bad), "{bad} in <{tag}> of {html}");
        }
    }
    assert!(tags.iter().any(|t| t.starts_with("img")), "{html}");
    assert!(
        html.contains("&lt;script&gt;"),
        "raw HTML is shown as text: {html}"
    );
    assert!(
        html.contains("<a href=\"https://elsewhere.example/x\" rel=\"noopener nofollow\">out</a>"),
        "{html}"
    );
    assert!(html.contains("<a href=\"/blog\">home</a>"), "{html}");
}

#[tokio::test]
async fn an_old_slug_redirects_and_drafts_never_show() {
    let (app, editor, author) = app().await;
    let post = create(&app, &editor, &author, "first-name", &[]).await;
    let published = act(&app, &editor, &post, "publish").await;
    let res = app
        .patch_json(
            &format!("/api/v1/admin/posts/{}", id(&post)),
            &json!({"slug": "second-name"}),
            &editor,
            Some(&etag(&published["version"])),
        )
        .await;
    let moved = expect_json(res, 200).await;
    assert_eq!(moved["slug"], "second-name");
    let res = eventually("the old slug redirects", async || {
        let res = get(&app, "/api/v1/content/posts/first-name", None).await;
        (res.status() == 301).then_some(res)
    })
    .await;
    assert_eq!(
        header(&res, "location").as_deref(),
        Some("/api/v1/content/posts/second-name")
    );
    let body = expect_json(
        get(&app, "/api/v1/content/posts/second-name", None).await,
        200,
    )
    .await;
    assert_eq!(body["slug"], "second-name");

    // Another post cannot take the old slug; the post itself can take it back.
    let res = app
        .post_json(
            "/api/v1/admin/posts",
            &json!({"slug": "first-name", "title": "x", "authorId": author["id"]}),
            &editor,
        )
        .await;
    assert_error(res, 409, "slug_taken").await;

    // A draft (never published) stays private at its slug and in the list.
    create(&app, &editor, &author, "secret", &[]).await;
    assert_error(
        get(&app, "/api/v1/content/posts/secret", None).await,
        404,
        "not_found",
    )
    .await;
    let list = expect_json(get(&app, "/api/v1/content/posts", None).await, 200).await;
    assert_eq!(slugs(&list), ["second-name"]);
}

#[tokio::test]
async fn the_worker_publishes_a_scheduled_post_when_its_time_comes() {
    let (app, editor, author) = app().await;
    let post = create(&app, &editor, &author, "later", &[]).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let res = app
        .post_json(
            &format!("/api/v1/admin/posts/{}/schedule", id(&post)),
            &json!({"version": post["version"], "publishAt": at}),
            &editor,
        )
        .await;
    let scheduled = expect_json(res, 200).await;
    assert_eq!(scheduled["status"], "SCHEDULED");
    assert_error(
        get(&app, "/api/v1/content/posts/later", None).await,
        404,
        "not_found",
    )
    .await;
    let public = eventually("the scheduled post is published", async || {
        let res = get(&app, "/api/v1/content/posts/later", None).await;
        (res.status() == 200).then_some(())?;
        Some(expect_json(res, 200).await)
    })
    .await;
    assert_eq!(public["slug"], "later");
    let staff = expect_json(
        app.get(&format!("/api/v1/admin/posts/{}", id(&post)), &editor)
            .await,
        200,
    )
    .await;
    assert_eq!(staff["status"], "PUBLISHED");
    assert!(staff["publishedAt"].is_string());
}

#[tokio::test]
async fn the_public_list_filters_by_tag_and_text_and_pages() {
    let (app, editor, author) = app().await;
    for (slug, tags) in [
        ("a-rust", &["rust"][..]),
        ("b-go", &["go"]),
        ("c-rust", &["rust", "news"]),
    ] {
        let p = create(&app, &editor, &author, slug, tags).await;
        act(&app, &editor, &p, "publish").await;
    }
    create(&app, &editor, &author, "d-rust-draft", &["rust"]).await;

    let all = expect_json(get(&app, "/api/v1/content/posts", None).await, 200).await;
    assert_eq!(
        slugs(&all),
        ["c-rust", "b-go", "a-rust"],
        "last published first"
    );
    assert!(
        all["data"][0].get("html").is_none(),
        "the list carries no bodies"
    );
    let rust = expect_json(get(&app, "/api/v1/content/posts?tag=rust", None).await, 200).await;
    assert_eq!(slugs(&rust), ["c-rust", "a-rust"]);
    assert_eq!(rust["meta"]["total"], 2);
    let found = expect_json(
        get(&app, "/api/v1/content/posts?q=ABOUT%20B-GO", None).await,
        200,
    )
    .await;
    assert_eq!(slugs(&found), ["b-go"]);
    let page = expect_json(
        get(&app, "/api/v1/content/posts?page=2&limit=2", None).await,
        200,
    )
    .await;
    assert_eq!(slugs(&page), ["a-rust"]);
    assert_eq!(page["meta"]["totalPages"], 2);
    assert_error(
        get(&app, "/api/v1/content/posts?tag=no%20way", None).await,
        400,
        "validation_failed",
    )
    .await;
}

/// The root element and, per item (`item` or `entry`), its link.
fn feed_links(xml: &str) -> (String, Vec<String>) {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut root, mut links) = (None, Vec::new());
    let mut stack: Vec<String> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                root.get_or_insert_with(|| name.clone());
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name == "link" && stack.last().is_some_and(|p| p == "entry") {
                    let href = e
                        .attributes()
                        .filter_map(Result::ok)
                        .find(|a| a.key.as_ref() == b"href")
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .expect("an href");
                    links.push(href);
                }
            }
            Event::Text(t) => {
                let n = stack.len();
                if n >= 2 && stack[n - 1] == "link" && stack[n - 2] == "item" {
                    links.push(t.decode().expect("text").into_owned());
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (root.expect("a root"), links)
}

#[tokio::test]
async fn the_feeds_and_the_sitemap_list_exactly_the_published_posts() {
    let (app, editor, author) = app().await;
    let one = create(&app, &editor, &author, "one", &["x"]).await;
    let two = create(&app, &editor, &author, "two", &[]).await;
    create(&app, &editor, &author, "draft", &[]).await;
    act(&app, &editor, &one, "publish").await;
    act(&app, &editor, &two, "publish").await;
    let want = [format!("{BASE}/blog/two"), format!("{BASE}/blog/one")];

    let res = get(&app, "/feed.xml", None).await;
    assert!(
        header(&res, "content-type")
            .unwrap_or_default()
            .starts_with("application/rss+xml")
    );
    let tag = header(&res, "etag").expect("an ETag");
    let (root, links) = feed_links(&res.text().await.expect("text"));
    assert_eq!(root, "rss");
    assert_eq!(links, want);
    assert_eq!(get(&app, "/feed.xml", Some(&tag)).await.status(), 304);

    let res = get(&app, "/atom.xml", None).await;
    assert!(
        header(&res, "content-type")
            .unwrap_or_default()
            .starts_with("application/atom+xml")
    );
    let (root, links) = feed_links(&res.text().await.expect("text"));
    assert_eq!(root, "feed");
    assert_eq!(links, want);

    // Unpublishing takes a post off the feeds (the post events refresh them).
    let current = expect_json(
        app.get(&format!("/api/v1/admin/posts/{}", id(&two)), &editor)
            .await,
        200,
    )
    .await;
    act(&app, &editor, &current, "unpublish").await;
    eventually("the feed drops the unpublished post", async || {
        let res = get(&app, "/feed.xml", Some(&tag)).await;
        (res.status() == 200).then_some(())?;
        let (_, links) = feed_links(&res.text().await.expect("text"));
        (links == [format!("{BASE}/blog/one")]).then_some(())
    })
    .await;

    let sitemap = get(&app, "/sitemap.xml", None)
        .await
        .text()
        .await
        .expect("text");
    assert!(
        sitemap.contains(&format!("<loc>{BASE}/blog/one</loc>")),
        "{sitemap}"
    );
    assert!(!sitemap.contains("/blog/two"), "{sitemap}");
    assert!(!sitemap.contains("/blog/draft"), "{sitemap}");
}

// ---- search --------------------------------------------------------------------------

/// Creates a post with this title, body and tags, published when `publish`.
async fn write(
    app: &TestApp,
    who: &Signed,
    author: &Value,
    (slug, title, body): (&str, &str, &str),
    tags: &[&str],
    publish: bool,
) -> Value {
    let res = app
        .post_json(
            "/api/v1/admin/posts",
            &json!({ "slug": slug, "title": title, "body": body, "tags": tags,
                     "authorId": author["id"] }),
            who,
        )
        .await;
    let post = expect_json(res, 201).await;
    if publish {
        act(app, who, &post, "publish").await
    } else {
        post
    }
}

async fn search(app: &TestApp, query: &str) -> Value {
    expect_json(
        get(app, &format!("/api/v1/content/posts?{query}"), None).await,
        200,
    )
    .await
}

#[tokio::test]
async fn searching_posts_matches_words_ranks_titles_first_and_never_finds_drafts() {
    let (app, editor, author) = app().await;
    write(
        &app,
        &editor,
        &author,
        ("in-title", "Rust release", "General words for everyone."),
        &["news"],
        true,
    )
    .await;
    // Published last, so it would come first by date alone: the ranking must win.
    let in_body = write(
        &app,
        &editor,
        &author,
        (
            "in-body",
            "Weekly digest",
            "This week we talk about **rust** a little.",
        ),
        &["digest"],
        true,
    )
    .await;
    write(
        &app,
        &editor,
        &author,
        ("stemmed", "A book", "The book was published last year."),
        &[],
        true,
    )
    .await;
    write(
        &app,
        &editor,
        &author,
        ("rust-draft", "Rust draft", "Rust, rust and more rust."),
        &["news"],
        false,
    )
    .await;

    let rust = search(&app, "q=rust").await;
    let stem = search(&app, "q=publishing").await;
    let prefix = search(&app, "q=wee").await;
    let both = search(&app, "q=RUST%20talk").await;
    let news = search(&app, "tag=news&q=rust").await;
    let digest = search(&app, "tag=digest&q=rust").await;
    let second = search(&app, "q=rust&limit=1&page=2").await;
    let none = search(&app, "q=spreadsheet").await;

    assert_eq!(slugs(&rust), ["in-title", "in-body"], "title over body");
    assert_eq!(rust["meta"]["total"], 2, "drafts are never found");
    assert_eq!(slugs(&stem), ["stemmed"], "publishing finds published");
    assert_eq!(slugs(&prefix), ["in-body"], "a word's beginning matches");
    assert_eq!(slugs(&both), ["in-body"], "every word must be there");
    assert_eq!(slugs(&news), ["in-title"]);
    assert_eq!(news["meta"]["total"], 1);
    assert_eq!(slugs(&digest), ["in-body"]);
    assert_eq!(slugs(&second), ["in-body"]);
    assert_eq!(second["meta"]["total"], 2);
    assert_eq!(second["meta"]["totalPages"], 2);
    assert_eq!(none["meta"]["total"], 0);

    // An edit of a published post is searchable at once.
    let res = app
        .patch_json(
            &format!("/api/v1/admin/posts/{}", id(&in_body)),
            &json!({ "title": "Weekly roundup" }),
            &editor,
            Some(&etag(&in_body["version"])),
        )
        .await;
    expect_json(res, 200).await;
    assert_eq!(slugs(&search(&app, "q=roundup").await), ["in-body"]);
    assert_eq!(search(&app, "q=digest").await["meta"]["total"], 0);
}

#[tokio::test]
async fn odd_search_text_is_words_or_nothing_never_an_error() {
    let (app, editor, author) = app().await;
    write(
        &app,
        &editor,
        &author,
        (
            "syntax",
            "Rust syntax",
            "Operators such as & | ! and :* appear.",
        ),
        &[],
        true,
    )
    .await;
    let syntax = "\"'&|!:*()";
    let long_syntax: String = syntax.chars().cycle().take(100).collect();
    let long_word = "x".repeat(100);

    for q in [
        syntax,
        long_syntax.as_str(),
        long_word.as_str(),
        "NEAR(a b)",
        "-rust",
    ] {
        let query = format!("q={}", urlencode(q));
        let found = search(&app, &query).await;
        if q == "-rust" {
            assert_eq!(slugs(&found), ["syntax"], "- only separates words");
        } else {
            assert_eq!(found["meta"]["total"], 0, "{q}: {found}");
        }
    }
    let with_syntax = search(&app, &format!("q={}", urlencode("rust:*|!(&"))).await;
    assert_eq!(slugs(&with_syntax), ["syntax"]);
    let too_long = get(
        &app,
        &format!("/api/v1/content/posts?q={}", "x".repeat(101)),
        None,
    )
    .await;
    let error = assert_error(too_long, 400, "validation_failed").await;
    assert_eq!(detail_fields(&error), ["q"]);
}

/// Percent-encodes every byte outside `[A-Za-z0-9]`.
fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn with_meilisearch_posts_are_indexed_searched_there_and_rebuilt_by_reindex() {
    let index = SearchIndexFake::start().await;
    let (app, editor, author) = app_with(&[("MEILI_URL", &index.url())]).await;
    let live = write(
        &app,
        &editor,
        &author,
        ("live", "Rust release", "Words."),
        &["news"],
        true,
    )
    .await;
    let draft = write(
        &app,
        &editor,
        &author,
        ("draft", "Rust draft", "Words."),
        &["news"],
        false,
    )
    .await;
    let gone = write(
        &app,
        &editor,
        &author,
        ("gone", "Old news", "Words."),
        &[],
        true,
    )
    .await;
    let posts = index.posts();
    posts
        .wait_until("the two published posts", |docs| {
            docs.len() == 2 && docs.values().all(|d| d["status"] == "PUBLISHED")
        })
        .await;
    act(&app, &editor, &gone, "unpublish").await;
    let docs = posts
        .wait_until("the unpublished post gone", |docs| {
            !docs.contains_key(&id(&gone))
        })
        .await;
    assert!(docs.contains_key(&id(&live)));
    assert!(
        !docs.contains_key(&id(&draft)),
        "drafts never enter the index"
    );
    assert!(
        index.documents().is_empty(),
        "the products index is another one"
    );

    let found = search(&app, "q=Rust%20%22rel*&tag=news").await;

    assert_eq!(slugs(&found), ["live"]);
    assert_eq!(found["data"][0]["author"]["name"], "Asha Rao");
    let sent = index.searches("posts").await;
    let last = sent.last().expect("the list searched the posts index");
    assert_eq!(last["q"], "rust rel");
    assert_eq!(last["matchingStrategy"], "all");
    assert_eq!(
        last["filter"],
        json!(["status = PUBLISHED", "tags = \"news\""])
    );
    let jobs = expect_json(
        app.get(
            "/api/v1/admin/jobs?kind=index_post",
            &app.sign_in_as(Role::Admin).await,
        )
        .await,
        200,
    )
    .await;
    assert!(
        jobs["meta"]["total"].as_u64().is_some_and(|n| n >= 5),
        "every post write makes a delivery: {jobs}"
    );

    posts.empty();
    posts.put(json!({ "id": id(&draft), "status": "PUBLISHED" }));
    let output = app.run_nexus(&["reindex"], &[]).await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("posts indexed 1/1"), "{stdout}");
    let docs = posts.documents();
    assert_eq!(docs.keys().cloned().collect::<Vec<_>>(), [id(&live)]);
}

#[tokio::test]
async fn a_post_answer_carries_its_meta_canonical_and_a_blog_posting() {
    let (app, editor, author) = app().await;
    let text = "Budgets are plans with numbers. We show how small teams plan a year \
                of spending without spreadsheets that nobody reads.";
    let res = app
        .post_json(
            "/api/v1/admin/posts",
            &json!({
                "slug": "budgets",
                "title": "Planning budgets",
                "body": text,
                "tags": ["money", "guides"],
                "authorId": author["id"],
            }),
            &editor,
        )
        .await;
    let draft = expect_json(res, 201).await;
    let res = app
        .post_file(
            &format!("/api/v1/admin/posts/{}/cover", id(&draft)),
            "file",
            "cover.png",
            "image/png",
            PNG,
            &editor,
        )
        .await;
    let with_cover = expect_json(res, 200).await;
    let published = act(&app, &editor, &with_cover, "publish").await;

    let res = get(&app, "/api/v1/content/posts/budgets", None).await;
    let tag = header(&res, "etag").expect("an ETag");
    let body = expect_json(res, 200).await;
    let seo = &body["seo"];
    assert_eq!(seo["metaTitle"], "Planning budgets | Customer Nexus Hub");
    assert_eq!(seo["metaTitleGenerated"], true);
    assert_eq!(seo["metaDescription"], body["excerpt"]);
    assert_eq!(seo["metaDescriptionGenerated"], true);
    assert_eq!(seo["canonical"], format!("{BASE}/blog/budgets"));
    assert_eq!(seo["robots"], "index,follow");
    let cover = format!("{BASE}/api/v1/content/posts/{}/cover", id(&draft));
    assert_eq!(seo["socialImage"], cover);
    let ld = &seo["structuredData"];
    assert_eq!(ld["@type"], "BlogPosting");
    assert_eq!(ld["headline"], "Planning budgets");
    assert_eq!(ld["url"], format!("{BASE}/blog/budgets"));
    assert_eq!(ld["image"], cover);
    assert_eq!(ld["author"]["@type"], "Person");
    assert_eq!(ld["author"]["name"], "Asha Rao");
    assert_eq!(ld["keywords"], "money, guides");
    let date = |v: &Value| {
        v.as_str()
            .expect("a date")
            .parse::<chrono::DateTime<chrono::Utc>>()
            .expect("RFC 3339")
    };
    assert_eq!(date(&ld["datePublished"]), date(&published["publishedAt"]));
    assert!(date(&ld["dateModified"]) >= date(&ld["datePublished"]));
    // The list keeps its shape: no SEO block there.
    let list = expect_json(get(&app, "/api/v1/content/posts", None).await, 200).await;
    assert!(list["data"][0].get("seo").is_none());

    // An excerpt the editor writes is the description, as written.
    let res = app
        .patch_json(
            &format!("/api/v1/admin/posts/{}", id(&draft)),
            &json!({ "excerpt": "How small teams plan a year.", "version": published["version"] }),
            &editor,
            None,
        )
        .await;
    expect_json(res, 200).await;
    let fresh = eventually("the edit to be served", async || {
        let res = get(&app, "/api/v1/content/posts/budgets", Some(&tag)).await;
        (res.status() == 200).then_some(())?;
        Some(expect_json(res, 200).await)
    })
    .await;
    assert_eq!(
        fresh["seo"]["metaDescription"],
        "How small teams plan a year."
    );
    assert_eq!(fresh["seo"]["metaDescriptionGenerated"], false);
    assert_eq!(
        fresh["seo"]["structuredData"]["description"],
        "How small teams plan a year."
    );
}

/// The feed's own title and link (RSS `channel/link` text, Atom `feed/link` href).
fn feed_head(xml: &str) -> (String, String) {
    let mut reader = Reader::from_str(xml);
    let (mut title, mut link) = (None, None);
    let mut stack: Vec<String> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                stack.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Event::Empty(e) => {
                let at_top = stack.last().is_some_and(|p| p == "feed");
                if e.name().as_ref() == b"link" && at_top && link.is_none() {
                    let attrs: Vec<_> = e.attributes().filter_map(Result::ok).collect();
                    if !attrs.iter().any(|a| a.key.as_ref() == b"rel") {
                        link = attrs
                            .iter()
                            .find(|a| a.key.as_ref() == b"href")
                            .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                    }
                }
            }
            Event::Text(t) => {
                let n = stack.len();
                let parent_is_top = n >= 2 && (stack[n - 2] == "channel" || stack[n - 2] == "feed");
                let value = t.decode().expect("text").into_owned();
                if parent_is_top && stack[n - 1] == "title" && title.is_none() {
                    title = Some(value);
                } else if parent_is_top && stack[n - 1] == "link" && link.is_none() {
                    link = Some(value);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (title.expect("a title"), link.expect("a link"))
}

#[tokio::test]
async fn the_feeds_are_titled_after_the_site_and_link_to_it() {
    let app = spawn_app_with(&[("PUBLIC_BASE_URL", BASE), ("SITE_NAME", "Acme")]).await;
    for path in ["/feed.xml", "/atom.xml"] {
        let res = get(&app, path, None).await;
        assert_eq!(res.status(), 200);
        let (title, link) = feed_head(&res.text().await.expect("text"));
        assert_eq!(title, "Acme blog", "{path}");
        assert_eq!(link, BASE, "{path}");
    }
}
