//! `MeiliProductSearch` against a wiremock fake of Meilisearch's HTTP API (a real
//! Meilisearch cannot run here).

use std::time::Duration;

use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_catalog::{
    AssetKey, CatalogError, Category, FileName, PriceRange, Product, ProductAsset,
    ProductDescription, ProductIndex, ProductQuery, ProductSearch, ProductSort, ProductStatus,
    ProductTitle, SearchText, Slug, Tags,
};
use nexus_kernel::{Currency, Money, PageRequest, UserId};
use nexus_meili_search::{InvalidMeiliConfig, MeiliApiKey, MeiliConfig, MeiliProductSearch};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const API_KEY: &str = "meili_master_key_DO_NOT_LEAK";

fn config(url: &str, timeout: Duration) -> MeiliConfig {
    MeiliConfig {
        api_key: Some(MeiliApiKey::new(API_KEY)),
        timeout,
        ..MeiliConfig::new(url)
    }
}

fn search_at(server: &MockServer) -> MeiliProductSearch {
    MeiliProductSearch::new(config(&server.uri(), Duration::from_secs(5))).expect("valid config")
}

fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).expect("valid time")
}

fn product(status: ProductStatus) -> Product {
    let id = ProductId::new();
    Product {
        id,
        slug: Slug::parse("invoice-template").expect("slug"),
        title: ProductTitle::parse("Invoice template").expect("title"),
        description: ProductDescription::parse("A tidy GST invoice.").expect("description"),
        price: Money::new(49_900, Currency::INR).expect("money"),
        category: Category::parse("templates").expect("category"),
        tags: Tags::parse(&["gst", "invoice"]).expect("tags"),
        status,
        asset: Some(ProductAsset {
            key: AssetKey::parse(&format!(
                "products/{id}/0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b-a.pdf"
            ))
            .expect("key"),
            file_name: FileName::parse("a.pdf").expect("file name"),
            content_type: "application/pdf".to_owned(),
            size: 10,
            sha256_hex: "ab".repeat(32),
        }),
        preview_image_url: None,
        cover: Some(nexus_catalog::StoredImage {
            key: format!("products/{id}/cover-1.png"),
            content_type: "image/png".into(),
            size: 120,
        }),
        created_by: UserId::new(),
        created_at: at(1_700_000_000_123_456),
        updated_at: at(1_700_000_100_000_000),
        published_at: (status == ProductStatus::Published).then(|| at(1_700_000_200_000_001)),
        version: 4,
    }
}

fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(json!({
        "taskUid": 1, "indexUid": "products", "status": "enqueued",
        "type": "documentAdditionOrUpdate", "enqueuedAt": "2025-01-01T00:00:00Z"
    }))
}

fn body_of(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

/// The one search request the fake received.
async fn search_request(server: &MockServer) -> Value {
    let requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1);
    body_of(&requests[0])
}

async fn answering_search(hits: Value, total: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/indexes/products/search"))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "hits": hits, "query": "", "processingTimeMs": 1,
            "hitsPerPage": 20, "page": 1, "totalPages": 1, "totalHits": total
        })))
        .mount(&server)
        .await;
    server
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(API_KEY), "the API key leaked into: {text}");
}

// ---------------------------------------------------------------- configuration

#[test]
fn the_config_defaults_to_the_products_index_and_hides_the_key() {
    let config = config("http://localhost:7700", Duration::from_secs(1));

    assert_eq!(config.index, "products");
    assert_no_secret(&format!("{config:?}"));
    let search = MeiliProductSearch::new(config).expect("valid");
    assert_no_secret(&format!("{search:?}"));
}

#[test]
fn an_unusable_config_is_refused() {
    let cases = [
        (MeiliConfig::new("localhost:7700"), InvalidMeiliConfig::Url),
        (
            MeiliConfig {
                index: "pro ducts".to_owned(),
                ..MeiliConfig::new("http://localhost:7700")
            },
            InvalidMeiliConfig::Index,
        ),
        (
            MeiliConfig {
                api_key: Some(MeiliApiKey::new("")),
                ..MeiliConfig::new("http://localhost:7700")
            },
            InvalidMeiliConfig::EmptyApiKey,
        ),
        (
            MeiliConfig {
                timeout: Duration::ZERO,
                ..MeiliConfig::new("http://localhost:7700")
            },
            InvalidMeiliConfig::ZeroTimeout,
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(MeiliProductSearch::new(config).err(), Some(expected));
    }
}

// ---------------------------------------------------------------- index

#[tokio::test]
async fn upsert_sends_the_whole_product_with_the_bearer_key_and_primary_key() {
    let server = MockServer::start().await;
    let live = product(ProductStatus::Published);
    Mock::given(method("POST"))
        .and(path("/indexes/products/documents"))
        .and(query_param("primaryKey", "id"))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(accepted())
        .expect(1)
        .mount(&server)
        .await;

    search_at(&server)
        .upsert(std::slice::from_ref(&live))
        .await
        .expect("indexed");

    let requests = server.received_requests().await.expect("recording");
    let body = body_of(&requests[0]);
    let doc = &body[0];
    assert_eq!(doc["id"], json!(live.id.to_string()));
    assert_eq!(doc["slug"], json!("invoice-template"));
    assert_eq!(doc["status"], json!("PUBLISHED"));
    assert_eq!(doc["price_minor"], json!(49_900));
    assert_eq!(doc["currency"], json!("INR"));
    assert_eq!(doc["category"], json!("templates"));
    assert_eq!(doc["tags"], json!(["gst", "invoice"]));
    assert_eq!(doc["published_at"], json!(1_700_000_200_000_001_i64));
    assert_eq!(doc["created_at"], json!(1_700_000_000_123_456_i64));
    assert_eq!(doc["asset"]["file_name"], json!("a.pdf"));
}

#[tokio::test]
async fn remove_deletes_the_document_by_id() {
    let server = MockServer::start().await;
    let id = ProductId::new();
    Mock::given(method("DELETE"))
        .and(path(format!("/indexes/products/documents/{id}")))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(accepted())
        .expect(1)
        .mount(&server)
        .await;

    search_at(&server).remove(id).await.expect("removed");
}

#[tokio::test]
async fn a_batch_is_one_request_and_an_empty_batch_none() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/indexes/products/documents"))
        .and(query_param("primaryKey", "id"))
        .respond_with(accepted())
        .expect(1)
        .mount(&server)
        .await;
    let batch = [
        product(ProductStatus::Published),
        product(ProductStatus::Published),
    ];

    search_at(&server).upsert(&batch).await.expect("indexed");
    search_at(&server)
        .upsert(&[])
        .await
        .expect("nothing to send");

    let requests = server.received_requests().await.expect("recording");
    let body = body_of(&requests[0]);
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    assert_eq!(body[1]["id"], json!(batch[1].id.to_string()));
}

#[tokio::test]
async fn clear_deletes_every_document_of_the_index() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/indexes/products/documents"))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(accepted())
        .expect(1)
        .mount(&server)
        .await;

    search_at(&server).clear().await.expect("cleared");
}

#[tokio::test]
async fn configure_index_declares_filterable_and_sortable_attributes() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/indexes/products/settings"))
        .and(body_partial_json(json!({
            "filterableAttributes": ["status", "category", "tags", "price_minor", "currency"],
            "sortableAttributes": ["price_minor", "published_at", "id"],
        })))
        .respond_with(accepted())
        .expect(1)
        .mount(&server)
        .await;

    search_at(&server)
        .configure_index()
        .await
        .expect("configured");
}

// ---------------------------------------------------------------- search

#[tokio::test]
async fn search_sends_words_filters_and_page_and_rebuilds_the_hits() {
    let live = product(ProductStatus::Published);
    let hit = {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(accepted())
            .mount(&server)
            .await;
        search_at(&server)
            .upsert(std::slice::from_ref(&live))
            .await
            .expect("indexed");
        body_of(&server.received_requests().await.expect("recording")[0])[0].clone()
    };
    let server = answering_search(json!([hit]), 41).await;
    let query = ProductQuery {
        q: Some(SearchText::parse("  GST \"invoice\" -draft").expect("text")),
        category: Some(Category::parse("Templates").expect("category")),
        tags: Tags::parse(&["gst", "invoice"]).expect("tags"),
        price: Some(PriceRange::new(Currency::INR, Some(100), Some(50_000)).expect("range")),
        sort: ProductSort::Relevance,
    };

    let page = search_at(&server)
        .search(&query, PageRequest::new(Some(3), Some(10)))
        .await
        .expect("searches");

    assert_eq!(page.items, vec![live]);
    assert_eq!(page.total, 41);
    assert_eq!(page.request, PageRequest::new(Some(3), Some(10)));
    let body = search_request(&server).await;
    assert_eq!(body["q"], json!("gst invoice draft"));
    assert_eq!(body["matchingStrategy"], json!("all"));
    assert_eq!(
        body["filter"],
        json!([
            "status = PUBLISHED",
            "category = \"templates\"",
            "tags = \"gst\"",
            "tags = \"invoice\"",
            "currency = \"INR\"",
            "price_minor >= 100",
            "price_minor <= 50000"
        ])
    );
    assert_eq!(
        (body["page"].clone(), body["hitsPerPage"].clone()),
        (json!(3), json!(10))
    );
    assert!(
        body.get("sort").is_none(),
        "relevance with words keeps Meilisearch's ranking"
    );
}

#[tokio::test]
async fn every_sort_is_sent_as_meilisearch_sort_rules() {
    let cases = [
        (
            ProductSort::PriceAsc,
            Some("pdf"),
            json!(["price_minor:asc", "id:asc"]),
        ),
        (
            ProductSort::PriceDesc,
            None,
            json!(["price_minor:desc", "id:desc"]),
        ),
        (
            ProductSort::Newest,
            Some("pdf"),
            json!(["published_at:desc", "id:desc"]),
        ),
        (
            ProductSort::Relevance,
            None,
            json!(["published_at:desc", "id:desc"]),
        ),
        (ProductSort::Relevance, Some("pdf"), Value::Null),
    ];
    for (sort, text, expected) in cases {
        let server = answering_search(json!([]), 0).await;
        let query = ProductQuery {
            q: text.map(|t| SearchText::parse(t).expect("text")),
            sort,
            ..ProductQuery::default()
        };

        search_at(&server)
            .search(&query, PageRequest::default())
            .await
            .expect("searches");

        let body = search_request(&server).await;
        assert_eq!(body["sort"], expected, "{sort:?} {text:?}");
        assert_eq!(body["filter"], json!(["status = PUBLISHED"]));
        assert_eq!(
            (body["page"].clone(), body["hitsPerPage"].clone()),
            (json!(1), json!(20))
        );
    }
}

#[tokio::test]
async fn a_category_with_a_quote_is_escaped_in_the_filter() {
    let server = answering_search(json!([]), 0).await;
    let query = ProductQuery {
        category: Some(Category::parse(r#"a" OR status = DRAFT \"#).expect("category")),
        ..ProductQuery::default()
    };

    search_at(&server)
        .search(&query, PageRequest::default())
        .await
        .expect("searches");

    let body = search_request(&server).await;
    assert_eq!(
        body["filter"][1],
        json!(r#"category = "a\" or status = draft \\""#)
    );
}

#[tokio::test]
async fn a_text_without_words_matches_nothing_without_a_call() {
    let server = MockServer::start().await;
    let query = ProductQuery {
        q: Some(SearchText::parse("\"*\" -- !").expect("text")),
        ..ProductQuery::default()
    };

    let page = search_at(&server)
        .search(&query, PageRequest::default())
        .await
        .expect("answers");

    assert!(page.items.is_empty() && page.total == 0);
    assert!(
        server
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}

#[tokio::test]
async fn a_bad_document_or_a_hidden_product_is_unexpected() {
    for hit in [json!({ "id": "not-an-id" }), json!({})] {
        let server = answering_search(json!([hit]), 1).await;

        let result = search_at(&server)
            .search(&ProductQuery::default(), PageRequest::default())
            .await;

        assert!(matches!(result, Err(CatalogError::Unexpected(_))));
    }
    // A well-formed DRAFT document must never reach the public.
    let hidden = product(ProductStatus::Draft);
    let doc = {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(accepted())
            .mount(&server)
            .await;
        search_at(&server)
            .upsert(std::slice::from_ref(&hidden))
            .await
            .expect("indexed");
        body_of(&server.received_requests().await.expect("recording")[0])[0].clone()
    };
    let server = answering_search(json!([doc]), 1).await;
    let result = search_at(&server)
        .search(&ProductQuery::default(), PageRequest::default())
        .await;
    assert!(matches!(result, Err(CatalogError::Unexpected(_))));
}

// ---------------------------------------------------------------- failures

#[tokio::test]
async fn a_server_error_is_unexpected_and_never_shows_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "message": "internal", "code": "internal", "type": "internal", "link": ""
        })))
        .mount(&server)
        .await;
    let search = search_at(&server);

    let searched = search
        .search(&ProductQuery::default(), PageRequest::default())
        .await;
    let indexed = search.upsert(&[product(ProductStatus::Draft)]).await;

    for result in [searched.map(|_| ()), indexed] {
        let Err(CatalogError::Unexpected(error)) = result else {
            panic!("expected Unexpected, got {result:?}");
        };
        assert!(error.context().contains("500"), "{}", error.context());
        assert_no_secret(&format!("{error} {error:?}"));
    }
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_unexpected() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(accepted().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let search = MeiliProductSearch::new(config(&server.uri(), Duration::from_millis(300)))
        .expect("valid config");

    let result = search.remove(ProductId::new()).await;

    let Err(CatalogError::Unexpected(error)) = result else {
        panic!("expected Unexpected, got {result:?}");
    };
    assert!(error.context().contains("no answer"), "{}", error.context());
    assert_no_secret(&format!("{error} {error:?}"));
}

#[tokio::test]
async fn an_unreachable_server_is_unexpected() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let search = MeiliProductSearch::new(config(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(2),
    ))
    .expect("valid config");

    let result = search.remove(ProductId::new()).await;

    assert!(
        matches!(result, Err(CatalogError::Unexpected(e)) if !format!("{e:?}").contains(API_KEY))
    );
}
