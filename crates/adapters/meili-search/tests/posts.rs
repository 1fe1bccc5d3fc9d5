//! `MeiliPostSearch` against a wiremock fake of Meilisearch's HTTP API: the posts index's
//! settings, documents, searches and errors.

use std::time::Duration;

use chrono::{DateTime, Utc};
use nexus_content::{
    ContentError, PageStatus, Post, PostId, PostIndex, PostQuery, PostSearch, TeamMemberId,
    TeamPhoto,
};
use nexus_kernel::{PageRequest, UserId};
use nexus_meili_search::{DEFAULT_POSTS_INDEX, MeiliApiKey, MeiliConfig, MeiliPostSearch};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const API_KEY: &str = "meili_master_key_DO_NOT_LEAK";

fn search_at(server: &MockServer) -> MeiliPostSearch {
    MeiliPostSearch::new(MeiliConfig {
        api_key: Some(MeiliApiKey::new(API_KEY)),
        index: DEFAULT_POSTS_INDEX.to_owned(),
        timeout: Duration::from_secs(5),
        ..MeiliConfig::new(server.uri())
    })
    .expect("valid config")
}

fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).expect("valid time")
}

fn post(status: PageStatus) -> Post {
    Post {
        id: PostId::new(),
        slug: "rust-release".into(),
        title: "Rust release".into(),
        body: "Some **words**.".into(),
        excerpt: "Short.".into(),
        tags: vec!["news".into(), "rust".into()],
        author_id: TeamMemberId::new(),
        cover: Some(TeamPhoto {
            key: "content/posts/x/cover.png".into(),
            content_type: "image/png".into(),
            size: 12,
        }),
        status,
        publish_at: None,
        published_at: (status == PageStatus::Published).then(|| at(1_700_000_200_000_001)),
        version: 3,
        created_by: UserId::new(),
        created_at: at(1_700_000_000_123_456),
        updated_at: at(1_700_000_100_000_000),
    }
}

fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(json!({
        "taskUid": 1, "indexUid": "posts", "status": "enqueued",
        "type": "documentAdditionOrUpdate", "enqueuedAt": "2025-01-01T00:00:00Z"
    }))
}

fn body_of(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

fn bearer() -> String {
    format!("Bearer {API_KEY}")
}

#[tokio::test]
async fn the_posts_index_is_configured_with_its_own_attributes() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/indexes/posts/settings"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(accepted())
        .expect(1)
        .mount(&server)
        .await;

    search_at(&server)
        .configure_index()
        .await
        .expect("configured");

    let requests = server.received_requests().await.expect("recording");
    let settings = body_of(&requests[0]);
    assert_eq!(
        settings["searchableAttributes"],
        json!(["title", "excerpt", "body"])
    );
    assert_eq!(settings["filterableAttributes"], json!(["status", "tags"]));
    assert_eq!(
        settings["sortableAttributes"],
        json!(["published_at", "id"])
    );
}

#[tokio::test]
async fn an_upserted_post_comes_back_from_a_search_as_it_was() {
    let live = post(PageStatus::Published);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/indexes/posts/documents"))
        .and(query_param("primaryKey", "id"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(accepted())
        .expect(1)
        .mount(&server)
        .await;
    let search = search_at(&server);
    search
        .upsert(std::slice::from_ref(&live))
        .await
        .expect("indexed");
    let requests = server.received_requests().await.expect("recording");
    let documents = body_of(&requests[0]);
    assert_eq!(documents[0]["title"], "Rust release");
    assert_eq!(documents[0]["tags"], json!(["news", "rust"]));
    Mock::given(method("POST"))
        .and(path("/indexes/posts/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "hits": documents, "totalHits": 7, "page": 2, "hitsPerPage": 1, "totalPages": 7
        })))
        .mount(&server)
        .await;

    let found = search
        .search(
            &PostQuery {
                q: Some("Rust: \"release\"".into()),
                tag: Some("news".into()),
            },
            PageRequest::new(Some(2), Some(1)),
        )
        .await
        .expect("searched");

    assert_eq!(found.items, [live]);
    assert_eq!(found.total, 7);
    let requests = server.received_requests().await.expect("recording");
    let sent = body_of(requests.last().expect("a search"));
    assert_eq!(sent["q"], "rust release");
    assert_eq!(
        sent["filter"],
        json!(["status = PUBLISHED", "tags = \"news\""])
    );
    assert_eq!(sent["page"], 2);
}

#[tokio::test]
async fn a_text_without_words_matches_nothing_without_a_call() {
    let server = MockServer::start().await;

    let found = search_at(&server)
        .search(
            &PostQuery {
                q: Some("\"'&|!:*()".into()),
                tag: None,
            },
            PageRequest::default(),
        )
        .await
        .expect("an empty page");

    assert_eq!(found.total, 0);
    assert!(
        server
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}

#[tokio::test]
async fn a_draft_hit_or_a_server_error_is_unexpected_and_never_shows_the_key() {
    let draft = post(PageStatus::Draft);
    let document = {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(accepted())
            .mount(&server)
            .await;
        search_at(&server)
            .upsert(std::slice::from_ref(&draft))
            .await
            .expect("indexed");
        body_of(&server.received_requests().await.expect("recording")[0])
    };
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/indexes/posts/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "hits": document, "totalHits": 1
        })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "code": "internal", "message": API_KEY
        })))
        .mount(&server)
        .await;
    let search = search_at(&server);

    let hidden = search
        .search(&PostQuery::default(), PageRequest::default())
        .await;
    let failed = search.remove(PostId::new()).await;

    assert!(matches!(hidden, Err(ContentError::Unexpected(_))));
    let Err(ContentError::Unexpected(e)) = failed else {
        panic!("not Unexpected: {failed:?}")
    };
    let text = format!("{e} {e:?}");
    assert!(text.contains("500"), "{text}");
    assert!(!text.contains(API_KEY), "{text}");
}
