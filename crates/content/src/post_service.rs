//! The blog: staff write posts (versions, audit entries and events in one unit of work),
//! publish, unpublish and schedule them; the public reads the published ones, rendered from
//! Markdown to sanitized HTML, with their author.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_catalog::{AssetStore, SignedLink};
use nexus_kernel::{Actor, Clock, Page as ListPage, PageRequest, Permission};
use nexus_outbox::EventEnvelope;
use serde_json::{Value, json};

use crate::audit::ENTITY_POST;
use crate::events::PostChanged;
use crate::permissions::{CONTENT_MANAGE, CONTENT_PUBLISH};
use crate::team_service::{check_image, discard_image, image_link, settle_images, store_image};
use crate::{
    AuditEntry, AuditEntryId, ContentError, ContentUnitOfWork, MarkdownRenderer, NewPost,
    PageStatus, Post, PostChange, PostFilter, PostId, PostQuery, PostRepository, PostSearch,
    SCHEDULE_BATCH, TeamMember, TeamMemberId, TeamRepository,
};

/// A post as the public (and the feeds) read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostView {
    /// The post.
    pub post: Post,
    /// Its body as sanitized HTML.
    pub html: String,
    /// Its excerpt: as written, or generated from the body.
    pub excerpt: String,
    /// Minutes to read.
    pub reading_minutes: u32,
    /// Its author (`None` only if the member was deleted since).
    pub author: Option<TeamMember>,
}

/// What the public finds at a slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicPost {
    /// The published post.
    Found(Box<PostView>),
    /// An old slug: the post now lives at this slug.
    Moved(String),
}

/// Who a write is by: a user, or the scheduler.
#[derive(Clone, Copy)]
enum By {
    User(nexus_kernel::UserId),
    Scheduler,
}

/// Blog posts.
pub struct PostService {
    repo: Arc<dyn PostRepository>,
    search: Arc<dyn PostSearch>,
    team: Arc<dyn TeamRepository>,
    uow: Arc<dyn ContentUnitOfWork>,
    renderer: Arc<dyn MarkdownRenderer>,
    assets: Arc<dyn AssetStore>,
    clock: Arc<dyn Clock>,
}

fn require(actor: &Actor, permission: Permission) -> Result<(), ContentError> {
    if actor.can(permission) {
        Ok(())
    } else {
        Err(ContentError::Forbidden)
    }
}

impl PostService {
    /// A service over these ports: `search` answers the public list (the database's own
    /// full-text search, or Meilisearch).
    #[must_use]
    pub fn new(
        repo: Arc<dyn PostRepository>,
        search: Arc<dyn PostSearch>,
        team: Arc<dyn TeamRepository>,
        uow: Arc<dyn ContentUnitOfWork>,
        renderer: Arc<dyn MarkdownRenderer>,
        assets: Arc<dyn AssetStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            search,
            team,
            uow,
            renderer,
            assets,
            clock,
        }
    }

    async fn load(&self, id: PostId) -> Result<Post, ContentError> {
        self.repo.find(id).await?.ok_or(ContentError::NotFound)
    }

    async fn author_exists(&self, id: TeamMemberId) -> Result<(), ContentError> {
        if self.team.find(id).await?.is_some() {
            Ok(())
        } else {
            Err(ContentError::field(
                "authorId",
                "not_found",
                "no team member has this id",
            ))
        }
    }

    /// `SlugTaken` when another post has `slug`, now or as an old slug; whether `id` itself
    /// once had it.
    async fn slug_free(&self, id: PostId, slug: &str) -> Result<bool, ContentError> {
        if self
            .repo
            .find_by_slug(slug)
            .await?
            .is_some_and(|p| p.id != id)
        {
            return Err(ContentError::SlugTaken);
        }
        match self.repo.find_by_old_slug(slug).await? {
            Some(owner) if owner != id => Err(ContentError::SlugTaken),
            Some(_) => Ok(true),
            None => Ok(false),
        }
    }

    fn audit(&self, by: By, id: PostId, action: &str, changes: Value) -> AuditEntry {
        AuditEntry {
            id: AuditEntryId::new(),
            at: self.clock.now(),
            actor: match by {
                By::User(u) => Some(u),
                By::Scheduler => None,
            },
            entity_kind: ENTITY_POST.to_owned(),
            entity_id: id.as_uuid(),
            action: action.to_owned(),
            changes,
        }
    }

    fn event(&self, post: &Post, deleted: bool) -> Result<EventEnvelope, ContentError> {
        Ok(EventEnvelope::new(
            &PostChanged {
                post_id: post.id,
                version: (!deleted).then_some(post.version),
                status: if deleted {
                    "DELETED".to_owned()
                } else {
                    post.status.as_str().to_owned()
                },
                slug: post.slug.clone(),
            },
            self.clock.now(),
        )?)
    }

    /// Creates a DRAFT post (version 1) by an existing team member.
    ///
    /// # Errors
    /// `Forbidden`, `Invalid` (fields, or `authorId` names no member), `SlugTaken`.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, actor: &Actor, input: NewPost) -> Result<Post, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let post = Post::create(input, actor.user_id(), self.clock.now())?;
        self.author_exists(post.author_id).await?;
        let reclaim = self.slug_free(post.id, &post.slug).await?;
        debug_assert!(!reclaim, "a new post has no old slugs");
        let mut tx = self.uow.begin().await?;
        tx.posts().insert(&post).await?;
        tx.pages()
            .insert_audit(&self.audit(
                By::User(actor.user_id()),
                post.id,
                "created",
                json!({ "fields": ["slug", "title", "body", "excerpt", "tags", "authorId"], "version": 1 }),
            ))
            .await?;
        tx.record(self.event(&post, false)?);
        tx.commit().await?;
        Ok(post)
    }

    /// Saves `post` (changed, version not bumped) over `expected`, with its audit entry,
    /// its event and, when its slug moved from `old_slug`, the slug history.
    async fn save(
        &self,
        by: By,
        mut post: Post,
        expected: i64,
        action: &str,
        mut changes: Value,
        old_slug: Option<(String, bool)>,
    ) -> Result<Post, ContentError> {
        post.version = expected.checked_add(1).ok_or(ContentError::Conflict)?;
        post.updated_at = self.clock.now();
        if let Some(map) = changes.as_object_mut() {
            map.insert("version".to_owned(), json!(post.version));
        }
        let mut tx = self.uow.begin().await?;
        if let Some((_, true)) = &old_slug {
            tx.posts().drop_old_slug(post.id, &post.slug).await?;
        }
        tx.posts().update(&post, expected).await?;
        if let Some((old, _)) = &old_slug {
            tx.posts().add_old_slug(post.id, old).await?;
        }
        tx.pages()
            .insert_audit(&self.audit(by, post.id, action, changes))
            .await?;
        tx.record(self.event(&post, false)?);
        tx.commit().await?;
        Ok(post)
    }

    /// Changes some fields of a post read at version `expected`. A PUBLISHED post shows the
    /// change at once; a new slug leaves the old one answering with a redirect.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `Invalid`, `SlugTaken`.
    #[tracing::instrument(skip_all, fields(post_id = %id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: PostId,
        expected: i64,
        change: PostChange,
    ) -> Result<Post, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let mut post = self.load(id).await?;
        if post.version != expected {
            return Err(ContentError::Conflict);
        }
        let old_slug = post.slug.clone();
        let fields = post.apply(change)?;
        if fields.contains(&"authorId") {
            self.author_exists(post.author_id).await?;
        }
        let moved = if fields.contains(&"slug") {
            let reclaim = self.slug_free(id, &post.slug).await?;
            Some((old_slug, reclaim))
        } else {
            None
        };
        self.save(
            By::User(actor.user_id()),
            post,
            expected,
            "updated",
            json!({ "fields": fields }),
            moved,
        )
        .await
    }

    /// Deletes a DRAFT post (with its old slugs); a PUBLISHED or SCHEDULED one is
    /// unpublished first. Its audit entries stay.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `InvalidTransition`.
    #[tracing::instrument(skip_all, fields(post_id = %id))]
    pub async fn delete(
        &self,
        actor: &Actor,
        id: PostId,
        expected: Option<i64>,
    ) -> Result<(), ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let post = self.load(id).await?;
        let expected = expected.unwrap_or(post.version);
        if post.version != expected {
            return Err(ContentError::Conflict);
        }
        if post.status != PageStatus::Draft {
            return Err(ContentError::InvalidTransition {
                from: post.status,
                action: "delete",
            });
        }
        let mut tx = self.uow.begin().await?;
        tx.posts().delete(id, expected).await?;
        tx.pages()
            .insert_audit(&self.audit(
                By::User(actor.user_id()),
                id,
                "deleted",
                json!({ "fields": [], "version": expected, "slug": post.slug }),
            ))
            .await?;
        tx.record(self.event(&post, true)?);
        tx.commit().await?;
        if let Some(cover) = post.cover {
            discard_image(self.assets.as_ref(), &cover.key).await;
        }
        Ok(())
    }

    /// A post, for staff.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn get(&self, actor: &Actor, id: PostId) -> Result<Post, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        self.load(id).await
    }

    /// One page of posts in any status, most recently changed first, for staff.
    ///
    /// # Errors
    /// `Forbidden`.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: PostFilter,
        page: PageRequest,
    ) -> Result<ListPage<Post>, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        self.repo.list(&filter, false, page).await
    }

    /// Publishes a post now (it becomes public at its slug).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`.
    #[tracing::instrument(skip_all, fields(post_id = %id))]
    pub async fn publish(
        &self,
        actor: &Actor,
        id: PostId,
        expected: i64,
    ) -> Result<Post, ContentError> {
        require(actor, CONTENT_PUBLISH)?;
        let post = self.load(id).await?;
        if post.version != expected {
            return Err(ContentError::Conflict);
        }
        self.publish_post(post, By::User(actor.user_id())).await
    }

    async fn publish_post(&self, mut post: Post, by: By) -> Result<Post, ContentError> {
        let expected = post.version;
        let changes = json!({
            "fields": ["status"],
            "values": { "status": { "from": post.status, "to": PageStatus::Published } },
        });
        post.status = PageStatus::Published;
        post.publish_at = None;
        post.published_at = Some(self.clock.now());
        self.save(by, post, expected, "published", changes, None)
            .await
    }

    /// Takes a PUBLISHED or SCHEDULED post back to DRAFT.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `InvalidTransition` (a DRAFT).
    #[tracing::instrument(skip_all, fields(post_id = %id))]
    pub async fn unpublish(
        &self,
        actor: &Actor,
        id: PostId,
        expected: i64,
    ) -> Result<Post, ContentError> {
        require(actor, CONTENT_PUBLISH)?;
        let mut post = self.load(id).await?;
        if post.version != expected {
            return Err(ContentError::Conflict);
        }
        if post.status == PageStatus::Draft {
            return Err(ContentError::InvalidTransition {
                from: post.status,
                action: "unpublish",
            });
        }
        let changes = json!({
            "fields": ["status"],
            "values": { "status": { "from": post.status, "to": PageStatus::Draft } },
        });
        post.status = PageStatus::Draft;
        post.publish_at = None;
        self.save(
            By::User(actor.user_id()),
            post,
            expected,
            "unpublished",
            changes,
            None,
        )
        .await
    }

    /// Schedules the publication of a post that is not PUBLISHED at a future `publish_at`;
    /// the worker publishes it then.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `Invalid` (not in the future),
    /// `InvalidTransition` (a PUBLISHED post).
    #[tracing::instrument(skip_all, fields(post_id = %id))]
    pub async fn schedule(
        &self,
        actor: &Actor,
        id: PostId,
        expected: i64,
        publish_at: DateTime<Utc>,
    ) -> Result<Post, ContentError> {
        require(actor, CONTENT_PUBLISH)?;
        if publish_at <= self.clock.now() {
            return Err(ContentError::field(
                "publishAt",
                "not_future",
                "must be in the future",
            ));
        }
        let mut post = self.load(id).await?;
        if post.version != expected {
            return Err(ContentError::Conflict);
        }
        if post.status == PageStatus::Published {
            return Err(ContentError::InvalidTransition {
                from: post.status,
                action: "schedule the publication of",
            });
        }
        let changes = json!({
            "fields": ["schedule"],
            "status": { "from": post.status, "to": PageStatus::Scheduled },
            "publishAt": publish_at,
        });
        post.status = PageStatus::Scheduled;
        post.publish_at = Some(publish_at);
        self.save(
            By::User(actor.user_id()),
            post,
            expected,
            "scheduled",
            changes,
            None,
        )
        .await
    }

    /// Publishes the SCHEDULED posts whose time came, each in its own unit of work guarded
    /// by the version read (with two workers, the loser's `Conflict` is skipped). Returns
    /// how many were published.
    ///
    /// # Errors
    /// `Unexpected` when the due posts cannot be read.
    pub async fn run_schedule(&self) -> Result<usize, ContentError> {
        let now = self.clock.now();
        let mut published = 0;
        for post in self.repo.due(now, SCHEDULE_BATCH).await? {
            let id = post.id;
            match self.publish_post(post, By::Scheduler).await {
                Ok(_) => published += 1,
                Err(ContentError::Conflict) => {}
                Err(err) => {
                    tracing::warn!(post_id = %id, error = %err, "a scheduled post failed to publish; it is tried again on the next turn");
                }
            }
        }
        Ok(published)
    }

    /// Checks that `actor` may change the cover of post `id`, before any upload is read.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn authorize_cover(&self, actor: &Actor, id: PostId) -> Result<(), ContentError> {
        require(actor, CONTENT_MANAGE)?;
        self.load(id).await.map(|_| ())
    }

    /// Stores `bytes` as the post's cover image (PNG, JPEG or WebP by its first bytes, at
    /// most 2 MiB), on the post read at `expected` (the current version when `None`).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `UnsupportedImage`, `ImageTooLarge`, `Conflict`.
    #[tracing::instrument(skip_all, fields(post_id = %id))]
    pub async fn set_cover(
        &self,
        actor: &Actor,
        id: PostId,
        expected: Option<i64>,
        bytes: Vec<u8>,
    ) -> Result<Post, ContentError> {
        require(actor, CONTENT_MANAGE)?;
        let kind = check_image(&bytes)?;
        let mut post = self.load(id).await?;
        let expected = expected.unwrap_or(post.version);
        if post.version != expected {
            return Err(ContentError::Conflict);
        }
        let cover = store_image(
            self.assets.as_ref(),
            &format!("content/posts/{id}/cover"),
            kind,
            bytes,
        )
        .await?;
        let changes =
            json!({ "fields": ["cover"], "contentType": cover.content_type, "size": cover.size });
        let new_key = cover.key.clone();
        let previous = post.cover.replace(cover);
        let saved = self
            .save(
                By::User(actor.user_id()),
                post,
                expected,
                "cover_changed",
                changes,
                None,
            )
            .await;
        settle_images(self.assets.as_ref(), saved.is_ok(), previous, new_key).await;
        saved
    }

    /// A short-lived link to the cover of a PUBLISHED post, for anyone.
    ///
    /// # Errors
    /// `NotFound` (no such published post, or no cover), `Unexpected`.
    pub async fn public_cover(&self, id: PostId) -> Result<SignedLink, ContentError> {
        let post = self.load(id).await?;
        let cover = post
            .cover
            .filter(|_| post.status == PageStatus::Published)
            .ok_or(ContentError::NotFound)?;
        image_link(self.assets.as_ref(), &cover, self.clock.now()).await
    }

    /// The public views of `posts`, with their authors read in one go.
    async fn views(&self, posts: Vec<Post>) -> Result<Vec<PostView>, ContentError> {
        let mut ids: Vec<TeamMemberId> = posts.iter().map(|p| p.author_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let authors: HashMap<TeamMemberId, TeamMember> = self
            .team
            .find_many(&ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        Ok(posts
            .into_iter()
            .map(|post| {
                let rendered = self.renderer.render(&post.body);
                let excerpt = if post.excerpt.is_empty() {
                    rendered.excerpt()
                } else {
                    post.excerpt.clone()
                };
                PostView {
                    author: authors.get(&post.author_id).cloned(),
                    reading_minutes: rendered.reading_minutes(),
                    html: rendered.html,
                    excerpt,
                    post,
                }
            })
            .collect())
    }

    /// One page of PUBLISHED posts matching `filter` (its status is ignored) through the
    /// search port: best match first when `q` has words, last published first otherwise;
    /// for anyone.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn public_list(
        &self,
        filter: PostFilter,
        page: PageRequest,
    ) -> Result<ListPage<PostView>, ContentError> {
        let query = PostQuery {
            q: filter.q,
            tag: filter.tag,
        };
        let found = self.search.search(&query, page).await?;
        let items = self.views(found.items).await?;
        Ok(ListPage {
            items,
            total: found.total,
            request: found.request,
        })
    }

    /// The PUBLISHED post at `slug`, or where a post that once had `slug` lives now (when
    /// it is PUBLISHED), for anyone.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn public(&self, slug: &str) -> Result<PublicPost, ContentError> {
        if let Some(post) = self.repo.find_by_slug(slug).await? {
            if post.status != PageStatus::Published {
                return Err(ContentError::NotFound);
            }
            let mut views = self.views(vec![post]).await?;
            return views
                .pop()
                .map(|v| PublicPost::Found(Box::new(v)))
                .ok_or(ContentError::NotFound);
        }
        let id = self
            .repo
            .find_by_old_slug(slug)
            .await?
            .ok_or(ContentError::NotFound)?;
        let post = self.load(id).await?;
        if post.status == PageStatus::Published {
            Ok(PublicPost::Moved(post.slug))
        } else {
            Err(ContentError::NotFound)
        }
    }

    /// The `limit` latest PUBLISHED posts, last published first, for the feeds: read from
    /// the database, so they never wait for a search index.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn latest(&self, limit: u32) -> Result<Vec<PostView>, ContentError> {
        let filter = PostFilter {
            status: Some(PageStatus::Published),
            ..PostFilter::default()
        };
        let found = self
            .repo
            .list(&filter, true, PageRequest::new(Some(1), Some(limit)))
            .await?;
        self.views(found.items).await
    }

    /// How many posts are published (the sitemap plans its files with it).
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn count_published(&self) -> Result<u64, ContentError> {
        self.repo.count_published().await
    }

    /// Up to `limit` published posts after `after` in id order: the sitemap walks them.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn published_after(
        &self,
        after: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<Post>, ContentError> {
        self.repo.published_after(after, limit).await
    }
}
