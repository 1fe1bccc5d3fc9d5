//! A fake of the Meilisearch HTTP API (wiremock) that keeps the documents it is sent, for
//! `MEILI_URL`: what the app's index writes leave behind can be read back and compared
//! with the database.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Documents by id.
type Documents = Arc<Mutex<BTreeMap<String, Value>>>;

/// Meilisearch's `products` and `posts` indexes on a local wiremock server: settings are
/// accepted, document writes (`POST documents`, `DELETE documents/{id}`, `DELETE documents`)
/// applied at once, and a search answers every PUBLISHED document of its index. The methods
/// on the fake itself read the `products` index; [`SearchIndexFake::posts`] the other.
pub struct SearchIndexFake {
    server: MockServer,
    documents: Documents,
    posts: PostsIndex,
}

/// The `posts` index of a [`SearchIndexFake`].
pub struct PostsIndex {
    server_uri: String,
    documents: Documents,
}

impl SearchIndexFake {
    /// Starts the fake with empty indexes.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let documents = Documents::default();
        mount_index(&server, "products", &documents).await;
        let posts = Documents::default();
        mount_index(&server, "posts", &posts).await;
        Mock::given(method("GET"))
            .and(path("/health"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "available"})))
            .mount(&server)
            .await;
        Self {
            posts: PostsIndex {
                server_uri: server.uri(),
                documents: posts,
            },
            server,
            documents,
        }
    }

    /// The `posts` index.
    #[must_use]
    pub fn posts(&self) -> &PostsIndex {
        &self.posts
    }

    /// The bodies of the searches the app sent to index `index`, oldest first.
    ///
    /// # Panics
    /// If wiremock stopped recording or a body is not JSON.
    pub async fn searches(&self, index: &str) -> Vec<Value> {
        let wanted = format!("/indexes/{index}/search");
        self.server
            .received_requests()
            .await
            .expect("wiremock records requests")
            .iter()
            .filter(|r| r.url.path() == wanted)
            .map(|r| serde_json::from_slice(&r.body).expect("a JSON search body"))
            .collect()
    }

    /// From now on answers every request with 503, as a Meilisearch that went unavailable.
    pub async fn go_down(&self) {
        Mock::given(path_regex(".*"))
            .respond_with(ResponseTemplate::new(503))
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// The URL for `MEILI_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// The documents held now, by id.
    #[must_use]
    pub fn documents(&self) -> BTreeMap<String, Value> {
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stores `document` as if the app had sent it (a stale copy, say).
    ///
    /// # Panics
    /// If it has no string `id`.
    pub fn put(&self, document: Value) {
        let id = document["id"].as_str().expect("a document id").to_owned();
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, document);
    }

    /// Forgets every document, as if the index had been lost.
    pub fn empty(&self) {
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Waits up to 15 s until `done` holds for the documents; returns the last documents.
    ///
    /// # Panics
    /// When it never holds, naming `what`.
    pub async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&BTreeMap<String, Value>) -> bool,
    ) -> BTreeMap<String, Value> {
        for _ in 0..300 {
            let documents = self.documents();
            if done(&documents) {
                return documents;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the search index never showed {what}: {:?}",
            self.documents()
        );
    }
}

impl PostsIndex {
    /// The documents held now, by id.
    #[must_use]
    pub fn documents(&self) -> BTreeMap<String, Value> {
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stores `document` as if the app had sent it.
    ///
    /// # Panics
    /// If it has no string `id`.
    pub fn put(&self, document: Value) {
        let id = document["id"].as_str().expect("a document id").to_owned();
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, document);
    }

    /// Forgets every document.
    pub fn empty(&self) {
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Waits up to 15 s until `done` holds for the documents; returns them.
    ///
    /// # Panics
    /// When it never holds, naming `what` (and the fake's URL).
    pub async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&BTreeMap<String, Value>) -> bool,
    ) -> BTreeMap<String, Value> {
        for _ in 0..300 {
            let documents = self.documents();
            if done(&documents) {
                return documents;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the posts index at {} never showed {what}: {:?}",
            self.server_uri,
            self.documents()
        );
    }
}

/// Mounts Meilisearch's routes of index `name`, over `documents`.
async fn mount_index(server: &MockServer, name: &str, documents: &Documents) {
    let index = format!("/indexes/{name}");
    Mock::given(method("PATCH"))
        .and(path(format!("{index}/settings")))
        .respond_with(accepted())
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{index}/documents")))
        .respond_with(Upserts(documents.clone()))
        .mount(server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{index}/documents")))
        .respond_with(Clears(documents.clone()))
        .mount(server)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(format!("^{index}/documents/[^/]+$")))
        .respond_with(Removes(documents.clone()))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{index}/search")))
        .respond_with(Searches(documents.clone()))
        .mount(server)
        .await;
}

/// Meilisearch's answer to an accepted write: a task summary.
fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(json!({
        "taskUid": 1, "indexUid": "products", "status": "enqueued",
        "type": "documentAdditionOrUpdate", "enqueuedAt": "2026-01-01T00:00:00Z"
    }))
}

struct Upserts(Documents);

impl Respond for Upserts {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Ok(Value::Array(batch)) = serde_json::from_slice::<Value>(&request.body) else {
            return ResponseTemplate::new(400);
        };
        let mut documents = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for document in batch {
            let Some(id) = document["id"].as_str() else {
                return ResponseTemplate::new(400);
            };
            documents.insert(id.to_owned(), document.clone());
        }
        accepted()
    }
}

struct Removes(Documents);

impl Respond for Removes {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(id) = request.url.path().rsplit('/').next() {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(id);
        }
        accepted()
    }
}

struct Clears(Documents);

impl Respond for Clears {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        accepted()
    }
}

struct Searches(Documents);

impl Respond for Searches {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let hits: Vec<Value> = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|d| d["status"] == "PUBLISHED")
            .cloned()
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "hits": hits, "totalHits": hits.len(), "page": 1,
            "hitsPerPage": 20, "totalPages": 1
        }))
    }
}
