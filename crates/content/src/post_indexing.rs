//! Keeping the external post search index in step: the `index_post` subscriber after each
//! post write, and the full rebuild behind `nexus reindex`.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_catalog::ReindexProgress;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::events::PostChanged;
use crate::{ContentError, PageStatus, PostIndex, PostRepository};

/// Writes the current state of a changed post to the search index: the PUBLISHED post
/// itself, or its removal when it is not PUBLISHED or no longer exists.
///
/// It never applies the event's content, only re-reads the post, so it is idempotent and
/// order-independent: delivered twice, or after a later event's delivery, it writes the
/// same current state.
pub struct IndexPost {
    posts: Arc<dyn PostRepository>,
    index: Arc<dyn PostIndex>,
}

impl IndexPost {
    /// The subscriber's name, also its job kind in the administrators' list.
    pub const NAME: &'static str = "index_post";

    /// Reads from `posts`, writes to `index`.
    #[must_use]
    pub fn new(posts: Arc<dyn PostRepository>, index: Arc<dyn PostIndex>) -> Self {
        Self { posts, index }
    }
}

/// Database and index failures may pass (a restart, a timeout): try again later.
#[expect(
    clippy::needless_pass_by_value,
    reason = "used as map_err(retryable), which passes the error by value"
)]
fn retryable(err: ContentError) -> DeliveryError {
    DeliveryError::Retryable(err.to_string())
}

#[async_trait]
impl Subscriber for IndexPost {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<PostChanged>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        if !delivery.event.is::<PostChanged>() {
            return Err(DeliveryError::Permanent(format!(
                "{} is not a post event",
                delivery.event.name
            )));
        }
        let id = delivery.event.decode::<PostChanged>()?.post_id;
        match self.posts.find(id).await.map_err(retryable)? {
            Some(post) if post.status == PageStatus::Published => self
                .index
                .upsert(std::slice::from_ref(&post))
                .await
                .map_err(retryable),
            _ => self.index.remove(id).await.map_err(retryable),
        }
    }
}

/// Rebuilds the post search index from the database: clears it, then sends every
/// PUBLISHED post in batches of [`PostReindexer::BATCH`] (walked by id). The same
/// trade-offs as the catalog's `Reindexer`: searches miss posts until their batch is
/// sent, and a post written during the rebuild may keep an older copy until its next
/// write or the next rebuild.
pub struct PostReindexer {
    posts: Arc<dyn PostRepository>,
    index: Arc<dyn PostIndex>,
}

impl PostReindexer {
    /// Posts per read and per index write (bodies are up to 100 000 characters, so fewer
    /// than the catalog's products).
    pub const BATCH: u32 = 100;

    /// Reads from `posts`, writes to `index`.
    #[must_use]
    pub fn new(posts: Arc<dyn PostRepository>, index: Arc<dyn PostIndex>) -> Self {
        Self { posts, index }
    }

    /// Clears the index and sends every PUBLISHED post, calling `progress` after each
    /// batch. Returns how many posts were sent.
    ///
    /// # Errors
    /// `Unexpected` when the database or the index fails; the index then holds the
    /// batches sent so far, and running the rebuild again starts over.
    pub async fn rebuild(
        &self,
        progress: &mut (dyn FnMut(ReindexProgress) + Send),
    ) -> Result<u64, ContentError> {
        let total = self.posts.count_published().await?;
        self.index.clear().await?;
        let mut indexed = 0_u64;
        let mut after = None;
        loop {
            let batch = self.posts.published_after(after, Self::BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id);
            self.index.upsert(&batch).await?;
            indexed += batch.len() as u64;
            progress(ReindexProgress { indexed, total });
            if batch.len() < Self::BATCH as usize {
                break;
            }
        }
        tracing::info!(indexed, "post search index rebuilt");
        Ok(indexed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::{DateTime, Utc};
    use nexus_kernel::{Clock, FixedClock, Unexpected, UserId};
    use nexus_outbox::{
        DEFAULT_MAX_ATTEMPTS, DeliveryId, DeliveryState, DomainEvent, EventEnvelope,
    };

    use super::*;
    use crate::events::TeamMemberChanged;
    use crate::{MockPostIndex, MockPostRepository, Post, PostId, TeamMemberId};

    fn now() -> DateTime<Utc> {
        FixedClock::default().now()
    }

    fn post(id: PostId, status: PageStatus) -> Post {
        Post {
            id,
            slug: "hello".into(),
            title: "Hello".into(),
            body: "Some words.".into(),
            excerpt: String::new(),
            tags: vec!["news".into()],
            author_id: TeamMemberId::new(),
            cover: None,
            status,
            publish_at: None,
            published_at: None,
            version: 1,
            created_by: UserId::new(),
            created_at: now(),
            updated_at: now(),
        }
    }

    fn delivery<E: DomainEvent>(event: &E) -> Delivery {
        Delivery {
            id: DeliveryId::new(),
            event: EventEnvelope::new(event, now()).expect("encodes"),
            subscriber: IndexPost::NAME.to_owned(),
            state: DeliveryState::Running,
            attempts: 1,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_at: now(),
            locked_by: None,
            locked_until: None,
            last_error: None,
            created_at: now(),
            updated_at: now(),
        }
    }

    fn changed(id: PostId) -> Delivery {
        delivery(&PostChanged {
            post_id: id,
            version: Some(2),
            status: "PUBLISHED".into(),
            slug: "hello".into(),
        })
    }

    fn serving(found: Option<Post>) -> MockPostRepository {
        let mut repo = MockPostRepository::new();
        repo.expect_find().returning(move |_| Ok(found.clone()));
        repo
    }

    #[tokio::test]
    async fn a_published_post_is_upserted_as_it_is_now() {
        let id = PostId::new();
        let mut index = MockPostIndex::new();
        index
            .expect_upsert()
            .withf(move |posts| posts.len() == 1 && posts[0].id == id)
            .times(1)
            .returning(|_| Ok(()));
        index.expect_remove().never();
        let s = IndexPost::new(
            Arc::new(serving(Some(post(id, PageStatus::Published)))),
            Arc::new(index),
        );

        assert_eq!(s.name(), "index_post");
        assert!(s.deliver(&changed(id)).await.is_ok());
    }

    #[tokio::test]
    async fn a_draft_scheduled_or_deleted_post_is_removed() {
        for found in [Some(PageStatus::Draft), Some(PageStatus::Scheduled), None] {
            let id = PostId::new();
            let mut index = MockPostIndex::new();
            index.expect_upsert().never();
            index
                .expect_remove()
                .withf(move |r| *r == id)
                .times(1)
                .returning(|_| Ok(()));
            let s = IndexPost::new(
                Arc::new(serving(found.map(|st| post(id, st)))),
                Arc::new(index),
            );

            assert!(s.deliver(&changed(id)).await.is_ok(), "{found:?}");
        }
    }

    #[tokio::test]
    async fn an_index_failure_is_retried_and_a_foreign_event_is_refused() {
        let id = PostId::new();
        let mut index = MockPostIndex::new();
        index
            .expect_upsert()
            .returning(|_| Err(Unexpected::msg("down").into()));
        let s = IndexPost::new(
            Arc::new(serving(Some(post(id, PageStatus::Published)))),
            Arc::new(index),
        );

        let failed = s.deliver(&changed(id)).await;
        let foreign = s
            .deliver(&delivery(&TeamMemberChanged {
                member_id: TeamMemberId::new(),
                version: None,
            }))
            .await;

        assert!(matches!(failed, Err(DeliveryError::Retryable(_))));
        assert!(matches!(foreign, Err(DeliveryError::Permanent(_))));
    }

    #[tokio::test]
    async fn a_rebuild_clears_then_sends_every_published_post_in_batches() {
        let ids: Vec<PostId> = (0..PostReindexer::BATCH + 1)
            .map(|_| PostId::new())
            .collect();
        let mut repo = MockPostRepository::new();
        repo.expect_count_published()
            .returning(|| Ok(u64::from(PostReindexer::BATCH) + 1));
        let all = ids.clone();
        repo.expect_published_after()
            .returning(move |after, limit| {
                let start =
                    after.map_or(0, |a| all.iter().position(|i| *i == a).expect("known") + 1);
                Ok(all
                    .iter()
                    .skip(start)
                    .take(limit as usize)
                    .map(|i| post(*i, PageStatus::Published))
                    .collect())
            });
        let sent = Arc::new(Mutex::new(Vec::new()));
        let mut index = MockPostIndex::new();
        index.expect_clear().times(1).returning(|| Ok(()));
        let seen = sent.clone();
        index.expect_upsert().returning(move |posts| {
            seen.lock()
                .expect("lock")
                .extend(posts.iter().map(|p| p.id));
            Ok(())
        });
        let mut progress = Vec::new();

        let indexed = PostReindexer::new(Arc::new(repo), Arc::new(index))
            .rebuild(&mut |p| progress.push((p.indexed, p.total)))
            .await
            .expect("rebuilt");

        assert_eq!(indexed, u64::from(PostReindexer::BATCH) + 1);
        assert_eq!(*sent.lock().expect("lock"), ids);
        assert_eq!(progress, [(100, 101), (101, 101)]);
    }
}
