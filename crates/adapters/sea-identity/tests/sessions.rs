//! `SeaSessionStore` on every backend.

mod common;

use common::at;
use nexus_identity::{ClientInfo, RefreshSession, SessionStore};
use nexus_identity::{SessionFamilyId, SessionId};
use nexus_kernel::{Role, UserId};
use nexus_sea_identity::SeaSessionStore;
use nexus_sea_identity::entities::user as user_row;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

fn session(user: UserId, family: SessionFamilyId, hash: &str) -> RefreshSession {
    RefreshSession {
        id: SessionId::new(),
        family_id: family,
        user_id: user,
        token_hash: hash.to_owned(),
        created_at: at(0),
        expires_at: at(3600),
        used_at: None,
        revoked_at: None,
        client: ClientInfo {
            device: "Firefox on Linux".to_owned(),
            ip_prefix: Some("203.0.113.0/24".to_owned()),
        },
        signed_in_at: at(0),
    }
}

#[tokio::test]
async fn a_stored_session_is_found_by_its_token_hash() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        let first = session(user, SessionFamilyId::new(), "hash-1");

        store.insert(&first).await.expect("insert");

        assert_eq!(
            store.find_by_token_hash("hash-1").await.expect("find"),
            Some(first),
            "{}",
            t.backend
        );
        assert_eq!(
            store.find_by_token_hash("hash-2").await.expect("find"),
            None
        );
    }
}

#[tokio::test]
async fn a_token_rotates_once_and_a_second_rotation_stores_nothing() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        let family = SessionFamilyId::new();
        let current = session(user, family, "current");
        store.insert(&current).await.expect("insert");
        let next = session(user, family, "next");
        let replay = session(user, family, "replay");

        let first = store
            .rotate(current.id, &next, at(10))
            .await
            .expect("rotate");
        let second = store
            .rotate(current.id, &replay, at(20))
            .await
            .expect("rotate again");

        assert!(first, "{}", t.backend);
        assert!(!second, "{}", t.backend);
        let used = store
            .find_by_token_hash("current")
            .await
            .expect("find")
            .expect("still stored");
        assert_eq!(used.used_at, Some(at(10)), "{}", t.backend);
        assert_eq!(
            store.find_by_token_hash("next").await.expect("find"),
            Some(next)
        );
        assert_eq!(
            store.find_by_token_hash("replay").await.expect("find"),
            None,
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_revoked_token_does_not_rotate() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        let family = SessionFamilyId::new();
        let current = session(user, family, "current");
        store.insert(&current).await.expect("insert");
        store.revoke_family(family, at(5)).await.expect("revoke");

        let rotated = store
            .rotate(current.id, &session(user, family, "next"), at(10))
            .await
            .expect("rotate");

        assert!(!rotated, "{}", t.backend);
        assert_eq!(store.find_by_token_hash("next").await.expect("find"), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_rotations_of_one_token_let_exactly_one_through() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        let family = SessionFamilyId::new();
        let current = session(user, family, "current");
        store.insert(&current).await.expect("insert");
        let (a, b) = (session(user, family, "a"), session(user, family, "b"));

        let (ra, rb) = tokio::join!(
            store.rotate(current.id, &a, at(10)),
            store.rotate(current.id, &b, at(10))
        );

        let outcomes = [ra.expect("rotate a"), rb.expect("rotate b")];
        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "{}: {outcomes:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn revoking_a_family_revokes_every_token_once() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        let family = SessionFamilyId::new();
        let other = SessionFamilyId::new();
        store
            .insert(&session(user, family, "one"))
            .await
            .expect("insert");
        store
            .insert(&session(user, family, "two"))
            .await
            .expect("insert");
        store
            .insert(&session(user, other, "other"))
            .await
            .expect("insert");
        assert!(is_live(&store, family, user, at(1)).await);

        store.revoke_family(family, at(5)).await.expect("revoke");
        store
            .revoke_family(family, at(50))
            .await
            .expect("revoke again");

        assert!(!is_live(&store, family, user, at(1)).await);
        assert!(is_live(&store, other, user, at(1)).await);
        for hash in ["one", "two"] {
            let token = store
                .find_by_token_hash(hash)
                .await
                .expect("find")
                .expect("stored");
            // The first revocation time stands: revoking is idempotent.
            assert_eq!(token.revoked_at, Some(at(5)), "{}: {hash}", t.backend);
        }
    }
}

#[tokio::test]
async fn revoking_a_user_spares_the_kept_family_and_other_users() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        let someone_else = common::staff(&t.db, Role::Cso).await;
        let (kept, lost, theirs) = (
            SessionFamilyId::new(),
            SessionFamilyId::new(),
            SessionFamilyId::new(),
        );
        store
            .insert(&session(user, kept, "kept"))
            .await
            .expect("insert");
        store
            .insert(&session(user, lost, "lost"))
            .await
            .expect("insert");
        store
            .insert(&session(someone_else, theirs, "theirs"))
            .await
            .expect("insert");

        store
            .revoke_user(user, Some(kept), at(5))
            .await
            .expect("revoke but keep");
        let after_keep = (
            is_live(&store, kept, user, at(1)).await,
            is_live(&store, lost, user, at(1)).await,
        );
        store
            .revoke_user(user, None, at(6))
            .await
            .expect("revoke all");

        assert_eq!(after_keep, (true, false), "{}", t.backend);
        assert!(!is_live(&store, kept, user, at(1)).await);
        assert!(is_live(&store, theirs, someone_else, at(1)).await);
    }
}

#[tokio::test]
async fn deleting_a_user_deletes_their_sessions() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        store
            .insert(&session(user, SessionFamilyId::new(), "doomed"))
            .await
            .expect("insert");

        user_row::Entity::delete_many()
            .filter(user_row::Column::Id.eq(user.as_uuid()))
            .exec(&t.db)
            .await
            .expect("delete the user");

        assert_eq!(
            store.find_by_token_hash("doomed").await.expect("find"),
            None,
            "{}: ON DELETE CASCADE needs foreign keys enforced",
            t.backend
        );
    }
}

/// Whether `family` is a live session of `user` at `now`: the store finds its caller.
async fn is_live(
    store: &SeaSessionStore,
    family: SessionFamilyId,
    user: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    store
        .find_live_caller(family, user, now)
        .await
        .expect("check")
        .is_some()
}

#[tokio::test]
async fn a_family_is_live_only_if_known_owned_by_the_user_and_unexpired() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let owner = common::staff(&t.db, Role::Cso).await;
        let someone_else = common::staff(&t.db, Role::Cso).await;
        let family = SessionFamilyId::new();
        store
            .insert(&session(owner, family, "owned"))
            .await
            .expect("insert");

        let owned = is_live(&store, family, owner, at(1)).await;
        let unknown = is_live(&store, SessionFamilyId::new(), owner, at(1)).await;
        let borrowed = is_live(&store, family, someone_else, at(1)).await;
        let expired = is_live(&store, family, owner, at(3600)).await;

        assert!(owned, "{}", t.backend);
        assert!(!unknown, "unknown family: {}", t.backend);
        assert!(!borrowed, "another user's family: {}", t.backend);
        assert!(!expired, "expired family: {}", t.backend);
    }
}

#[tokio::test]
async fn the_live_sessions_are_one_per_family_newest_use_first_with_their_details() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        let (older, newer, ended) = (
            SessionFamilyId::new(),
            SessionFamilyId::new(),
            SessionFamilyId::new(),
        );
        let first = session(user, older, "older-1");
        store.insert(&first).await.expect("insert");
        store
            .insert(&RefreshSession {
                created_at: at(10),
                signed_in_at: at(10),
                ..session(user, newer, "newer-1")
            })
            .await
            .expect("insert");
        store
            .insert(&session(user, ended, "ended-1"))
            .await
            .expect("insert");
        store.revoke_family(ended, at(11)).await.expect("revoke");
        // The older one is used after the newer one signed in: it moves first.
        let next = RefreshSession {
            created_at: at(20),
            ..session(user, older, "older-2")
        };
        assert!(store.rotate(first.id, &next, at(20)).await.expect("rotate"));

        let live = store.list_live(user, at(30)).await.expect("list");

        let ids: Vec<_> = live.iter().map(|s| s.id).collect();
        assert_eq!(ids, [older, newer], "{}", t.backend);
        assert_eq!(live[0].signed_in_at, at(0), "{}", t.backend);
        assert_eq!(live[0].last_used_at, at(20), "{}", t.backend);
        assert_eq!(live[0].client.device, "Firefox on Linux");
        assert_eq!(live[0].client.ip_prefix.as_deref(), Some("203.0.113.0/24"));
        assert!(live.iter().all(|s| !s.current));
        // Expired families are not live.
        assert!(
            store
                .list_live(user, at(4000))
                .await
                .expect("list")
                .is_empty(),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn revoking_a_family_of_a_user_needs_it_to_be_theirs_and_live() {
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let owner = common::staff(&t.db, Role::Cso).await;
        let someone_else = common::staff(&t.db, Role::Cso).await;
        let family = SessionFamilyId::new();
        store
            .insert(&session(owner, family, "mine-1"))
            .await
            .expect("insert");

        let by_other = store.revoke_family_of(family, someone_else, at(1)).await;
        let by_owner = store.revoke_family_of(family, owner, at(1)).await;
        let again = store.revoke_family_of(family, owner, at(2)).await;

        assert!(!by_other.expect("answers"), "{}", t.backend);
        assert!(by_owner.expect("answers"), "{}", t.backend);
        assert!(!again.expect("answers"), "{}", t.backend);
        assert!(!is_live(&store, family, owner, at(3)).await);
        let stored = store
            .find_by_token_hash("mine-1")
            .await
            .expect("find")
            .expect("kept");
        assert_eq!(stored.revoked_at, Some(at(1)), "{}", t.backend);
    }
}

#[tokio::test]
async fn the_caller_of_a_live_session_is_its_user_as_stored_with_their_authenticator() {
    use nexus_identity::{TotpEnrolment, TotpStore, UserRepository};
    for t in common::backends().await {
        let store = SeaSessionStore::new(t.db.clone());
        let users = nexus_sea_identity::SeaUserRepository::new(t.db.clone());
        let totp = nexus_sea_identity::SeaTotpStore::new(t.db.clone());
        let (cso, admin) = (
            common::staff(&t.db, Role::Cso).await,
            common::staff(&t.db, Role::Admin).await,
        );
        let (theirs, mine) = (SessionFamilyId::new(), SessionFamilyId::new());
        for (user, family, hash) in [(cso, theirs, "cso"), (admin, mine, "admin")] {
            store
                .insert(&session(user, family, hash))
                .await
                .expect("insert");
        }
        // The administrator has an authenticator on; the officer only a pending one.
        for user in [cso, admin] {
            let enrolment = TotpEnrolment {
                user_id: user,
                sealed_secret: "v1.sealed".to_owned(),
                enabled_at: None,
                last_step: None,
                created_at: at(0),
            };
            assert!(totp.start(&enrolment).await.expect("start"));
        }
        assert!(totp.enable(admin, &[], 100, at(0)).await.expect("on"));

        let officer = store
            .find_live_caller(theirs, cso, at(1))
            .await
            .expect("find")
            .expect("live");
        let administrator = store
            .find_live_caller(mine, admin, at(1))
            .await
            .expect("find")
            .expect("live");

        let b = t.backend;
        let stored = users.find(cso).await.expect("find").expect("stored");
        assert_eq!(officer.user, stored, "{b}");
        assert!(!officer.two_factor_enabled, "{b}");
        assert_eq!(administrator.user.id, admin, "{b}");
        assert!(administrator.two_factor_enabled, "{b}");
        // Another user's family is nobody's session.
        assert_eq!(
            store
                .find_live_caller(mine, cso, at(1))
                .await
                .expect("find"),
            None,
            "{b}"
        );
    }
}
