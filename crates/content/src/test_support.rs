//! A unit of work over mocked stores for the services' unit tests (it logs the names of the
//! events it records, then `commit`, when committed), and an asset store that logs too.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nexus_catalog::{AssetKey, MockAssetStore, StoredObject};
use nexus_outbox::EventEnvelope;

use crate::{ContentError, ContentTx, MockPageStore, MockPostStore, MockTeamStore, PageStore};

/// What a test's units of work did, in order.
pub(crate) type Log = Arc<Mutex<Vec<String>>>;

/// One unit of work.
pub(crate) struct Tx {
    pub(crate) pages: Arc<MockPageStore>,
    pub(crate) team: MockTeamStore,
    pub(crate) posts: MockPostStore,
    pub(crate) events: Vec<EventEnvelope>,
    pub(crate) log: Log,
}

impl Tx {
    /// A unit of work over these stores, logging into `log`.
    pub(crate) fn new(
        pages: Arc<MockPageStore>,
        team: MockTeamStore,
        posts: MockPostStore,
        log: Log,
    ) -> Self {
        Self {
            pages,
            team,
            posts,
            events: Vec::new(),
            log,
        }
    }
}

#[async_trait]
impl ContentTx for Tx {
    fn pages(&self) -> &dyn PageStore {
        &*self.pages
    }
    fn team(&self) -> &dyn crate::TeamStore {
        &self.team
    }
    fn posts(&self) -> &dyn crate::PostStore {
        &self.posts
    }
    fn record(&mut self, event: EventEnvelope) {
        self.events.push(event);
    }

    fn audit(&mut self, _record: nexus_kernel::AuditRecord) {
        // The audit log is the adapter's: its rows are checked by the black-box tests.
    }
    async fn commit(self: Box<Self>) -> Result<(), ContentError> {
        let mut log = self.log.lock().expect("lock");
        log.extend(self.events.into_iter().map(|e| e.name));
        log.push("commit".to_owned());
        Ok(())
    }
}

/// What `log` holds now.
pub(crate) fn entries(log: &Log) -> Vec<String> {
    log.lock().expect("lock").clone()
}

/// An asset store that logs the keys it stores (`put <key>`) and deletes (`delete <key>`).
pub(crate) fn assets(log: &Log) -> MockAssetStore {
    let mut assets = MockAssetStore::new();
    let l = log.clone();
    assets
        .expect_put()
        .returning(move |key: &AssetKey, bytes, content_type| {
            l.lock()
                .expect("lock")
                .push(format!("put {}", key.as_str()));
            Ok(StoredObject {
                key: key.clone(),
                size: bytes.len() as u64,
                content_type: content_type.to_owned(),
                sha256_hex: String::new(),
            })
        });
    let l = log.clone();
    assets.expect_delete().returning(move |key: &AssetKey| {
        l.lock()
            .expect("lock")
            .push(format!("delete {}", key.as_str()));
        Ok(())
    });
    assets
}
