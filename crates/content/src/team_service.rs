//! The team service: staff edit members (with versions, audit entries and events in one unit
//! of work) and their photos; the public reads the visible ones in order.

use std::sync::Arc;

use nexus_catalog::images::{self, ImageRejection};
pub(crate) use nexus_catalog::images::{discard_image, settle_images, store_image};
use nexus_catalog::{AssetStore, ImageKind, SignedLink};
use nexus_kernel::{Actor, Clock, Page as ListPage, PageRequest};
use nexus_outbox::EventEnvelope;
use serde_json::{Value, json};

use crate::audit::ENTITY_TEAM_MEMBER;
use crate::events::TeamMemberChanged;
use crate::permissions::CONTENT_MANAGE;
use crate::team::MAX_PHOTO_BYTES;
use crate::{
    AuditEntry, AuditEntryId, ContentError, ContentUnitOfWork, NewTeamMember, TeamMember,
    TeamMemberChange, TeamMemberId, TeamPhoto, TeamRepository,
};

/// How long a public photo link lives, in seconds.
pub const PHOTO_LINK_TTL_SECS: i64 = nexus_catalog::IMAGE_LINK_TTL_SECS;

/// Team members and their photos.
pub struct TeamService {
    repo: Arc<dyn TeamRepository>,
    uow: Arc<dyn ContentUnitOfWork>,
    assets: Arc<dyn AssetStore>,
    clock: Arc<dyn Clock>,
}

fn require(actor: &Actor) -> Result<(), ContentError> {
    if actor.can(CONTENT_MANAGE) {
        Ok(())
    } else {
        Err(ContentError::Forbidden)
    }
}

impl TeamService {
    /// A service over these ports; photos go to `assets`.
    #[must_use]
    pub fn new(
        repo: Arc<dyn TeamRepository>,
        uow: Arc<dyn ContentUnitOfWork>,
        assets: Arc<dyn AssetStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            uow,
            assets,
            clock,
        }
    }

    async fn load(&self, id: TeamMemberId) -> Result<TeamMember, ContentError> {
        self.repo.find(id).await?.ok_or(ContentError::NotFound)
    }

    fn audit(&self, actor: &Actor, id: TeamMemberId, action: &str, changes: Value) -> AuditEntry {
        AuditEntry {
            id: AuditEntryId::new(),
            at: self.clock.now(),
            actor: Some(actor.user_id()),
            entity_kind: ENTITY_TEAM_MEMBER.to_owned(),
            entity_id: id.as_uuid(),
            action: action.to_owned(),
            changes,
        }
    }

    fn event(&self, id: TeamMemberId, version: Option<i64>) -> Result<EventEnvelope, ContentError> {
        Ok(EventEnvelope::new(
            &TeamMemberChanged {
                member_id: id,
                version,
            },
            self.clock.now(),
        )?)
    }

    /// Creates a member (after the others unless a position is given).
    ///
    /// # Errors
    /// `Forbidden`, `Invalid`.
    #[tracing::instrument(skip_all)]
    pub async fn create(
        &self,
        actor: &Actor,
        input: NewTeamMember,
    ) -> Result<TeamMember, ContentError> {
        require(actor)?;
        let next = self
            .repo
            .max_position()
            .await?
            .map_or(0, |p| p.saturating_add(1));
        let member = TeamMember::create(input, next, self.clock.now())?;
        let mut tx = self.uow.begin().await?;
        tx.team().insert(&member).await?;
        tx.pages()
            .insert_audit(&self.audit(
                actor,
                member.id,
                "created",
                json!({ "fields": ["name", "roleTitle", "bio", "links", "position", "visible"], "version": 1 }),
            ))
            .await?;
        tx.record(self.event(member.id, Some(1))?);
        tx.commit().await?;
        Ok(member)
    }

    /// Saves `member` (changed, version not bumped) over `expected`, with its audit entry
    /// and event.
    async fn save(
        &self,
        actor: &Actor,
        mut member: TeamMember,
        expected: i64,
        action: &str,
        mut changes: Value,
    ) -> Result<TeamMember, ContentError> {
        member.version = expected.checked_add(1).ok_or(ContentError::Conflict)?;
        member.updated_at = self.clock.now();
        if let Some(map) = changes.as_object_mut() {
            map.insert("version".to_owned(), json!(member.version));
        }
        let mut tx = self.uow.begin().await?;
        tx.team().update(&member, expected).await?;
        tx.pages()
            .insert_audit(&self.audit(actor, member.id, action, changes))
            .await?;
        tx.record(self.event(member.id, Some(member.version))?);
        tx.commit().await?;
        Ok(member)
    }

    /// Changes some fields of a member read at version `expected`.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict` (stale `expected`), `Invalid`.
    #[tracing::instrument(skip_all, fields(member_id = %id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: TeamMemberId,
        expected: i64,
        change: TeamMemberChange,
    ) -> Result<TeamMember, ContentError> {
        require(actor)?;
        let mut member = self.load(id).await?;
        if member.version != expected {
            return Err(ContentError::Conflict);
        }
        let fields = member.apply(change)?;
        self.save(
            actor,
            member,
            expected,
            "updated",
            json!({ "fields": fields }),
        )
        .await
    }

    /// Puts the members in the order given: each `(id, version read)` gets position 0, 1...
    /// in one unit of work; any stale version makes the whole reorder a `Conflict`.
    ///
    /// # Errors
    /// `Forbidden`, `Invalid` (empty, too long or repeated ids), `NotFound`, `Conflict`.
    #[tracing::instrument(skip_all)]
    pub async fn reorder(
        &self,
        actor: &Actor,
        order: Vec<(TeamMemberId, i64)>,
    ) -> Result<Vec<TeamMember>, ContentError> {
        require(actor)?;
        if order.is_empty() || order.len() > 100 {
            return Err(ContentError::field(
                "order",
                "invalid",
                "list 1 to 100 members",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if !order.iter().all(|(id, _)| seen.insert(*id)) {
            return Err(ContentError::field(
                "order",
                "duplicate",
                "each member at most once",
            ));
        }
        let mut members = Vec::with_capacity(order.len());
        for (id, expected) in &order {
            let member = self.load(*id).await?;
            if member.version != *expected {
                return Err(ContentError::Conflict);
            }
            members.push(member);
        }
        let now = self.clock.now();
        let mut tx = self.uow.begin().await?;
        let mut saved = Vec::with_capacity(members.len());
        for (position, mut member) in (0_i32..).zip(members) {
            let expected = member.version;
            let from = member.position;
            member.position = position;
            member.version = expected + 1;
            member.updated_at = now;
            tx.team().update(&member, expected).await?;
            tx.pages()
                .insert_audit(&self.audit(
                    actor,
                    member.id,
                    "reordered",
                    json!({ "fields": ["position"], "values": { "position": { "from": from, "to": position } }, "version": member.version }),
                ))
                .await?;
            tx.record(self.event(member.id, Some(member.version))?);
            saved.push(member);
        }
        tx.commit().await?;
        Ok(saved)
    }

    /// Deletes a member read at version `expected`; its audit entries stay, and its photo is
    /// deleted from the store once the deletion is committed.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`.
    #[tracing::instrument(skip_all, fields(member_id = %id))]
    pub async fn delete(
        &self,
        actor: &Actor,
        id: TeamMemberId,
        expected: Option<i64>,
    ) -> Result<(), ContentError> {
        require(actor)?;
        let member = self.load(id).await?;
        let expected = expected.unwrap_or(member.version);
        if member.version != expected {
            return Err(ContentError::Conflict);
        }
        let mut tx = self.uow.begin().await?;
        tx.team().delete(id, expected).await?;
        tx.pages()
            .insert_audit(&self.audit(
                actor,
                id,
                "deleted",
                json!({ "fields": [], "version": expected, "name": member.name }),
            ))
            .await?;
        tx.record(self.event(id, None)?);
        tx.commit().await?;
        if let Some(photo) = member.photo {
            discard_image(self.assets.as_ref(), &photo.key).await;
        }
        Ok(())
    }

    /// A member, for staff.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn get(&self, actor: &Actor, id: TeamMemberId) -> Result<TeamMember, ContentError> {
        require(actor)?;
        self.load(id).await
    }

    /// One page of every member in order, for staff.
    ///
    /// # Errors
    /// `Forbidden`.
    pub async fn list(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<ListPage<TeamMember>, ContentError> {
        require(actor)?;
        self.repo.list(false, page).await
    }

    /// One page of the visible members in order, for anyone.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn public_list(
        &self,
        page: PageRequest,
    ) -> Result<ListPage<TeamMember>, ContentError> {
        self.repo.list(true, page).await
    }

    /// Checks that `actor` may change the photo of member `id`, before any upload is read.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn authorize_photo(
        &self,
        actor: &Actor,
        id: TeamMemberId,
    ) -> Result<(), ContentError> {
        require(actor)?;
        self.load(id).await.map(|_| ())
    }

    /// Stores `bytes` as the member's photo (a PNG, JPEG or WebP by its first bytes, at most
    /// [`MAX_PHOTO_BYTES`]) under a new key, then records it on the member read at
    /// `expected` (the current version when `None`).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `UnsupportedImage`, `ImageTooLarge`, `Conflict`.
    #[tracing::instrument(skip_all, fields(member_id = %id))]
    pub async fn set_photo(
        &self,
        actor: &Actor,
        id: TeamMemberId,
        expected: Option<i64>,
        bytes: Vec<u8>,
    ) -> Result<TeamMember, ContentError> {
        require(actor)?;
        let kind = check_image(&bytes)?;
        let mut member = self.load(id).await?;
        let expected = expected.unwrap_or(member.version);
        if member.version != expected {
            return Err(ContentError::Conflict);
        }
        let photo = store_image(
            self.assets.as_ref(),
            &format!("content/team/{id}/photo"),
            kind,
            bytes,
        )
        .await?;
        let (content_type, size) = (photo.content_type.clone(), photo.size);
        let new_key = photo.key.clone();
        let previous = member.photo.replace(photo);
        let saved = self
            .save(
                actor,
                member,
                expected,
                "photo_changed",
                json!({ "fields": ["photo"], "contentType": content_type, "size": size }),
            )
            .await;
        settle_images(self.assets.as_ref(), saved.is_ok(), previous, new_key).await;
        saved
    }

    /// A short-lived link to the photo of a visible member, for anyone.
    ///
    /// # Errors
    /// `NotFound` (no such visible member, or no photo), `Unexpected`.
    pub async fn public_photo(&self, id: TeamMemberId) -> Result<SignedLink, ContentError> {
        let member = self.load(id).await?;
        let photo = member
            .photo
            .filter(|_| member.visible)
            .ok_or(ContentError::NotFound)?;
        image_link(self.assets.as_ref(), &photo, self.clock.now()).await
    }
}

/// Checks `bytes` (size, then magic bytes) and its kind.
///
/// # Errors
/// `ImageTooLarge`, `UnsupportedImage`.
pub(crate) fn check_image(bytes: &[u8]) -> Result<ImageKind, ContentError> {
    images::check_image(bytes).map_err(|rejection| match rejection {
        ImageRejection::TooLarge => ContentError::ImageTooLarge {
            max: MAX_PHOTO_BYTES,
        },
        ImageRejection::Unsupported => ContentError::UnsupportedImage,
    })
}

/// A short-lived link to a stored image.
pub(crate) async fn image_link(
    assets: &dyn AssetStore,
    image: &TeamPhoto,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<SignedLink, ContentError> {
    Ok(images::image_link(assets, image, now).await?)
}
