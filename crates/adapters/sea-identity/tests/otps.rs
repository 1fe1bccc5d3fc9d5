//! `SeaOtpStore` and the identity unit of work on every backend: issuing voids older codes
//! and writes the `identity.code_issued` event in one transaction; finding, counting
//! failures and using a code are atomic.

mod common;

use std::sync::Arc;

use common::at;
use nexus_identity::{
    CodeIssued, IdentityError, IdentityUnitOfWork, OneTimeCode, OtpPurpose, OtpStore,
};
use nexus_kernel::{Role, UserId};
use nexus_outbox::EventEnvelope;
use nexus_sea_identity::SeaOtpStore;
use nexus_sea_identity::entities::one_time_code as code_row;
use nexus_sea_support::DatabaseConnection;
use sea_orm::EntityTrait;
use uuid::Uuid;

/// A fresh code for `user`, issued at `at(issued)` and valid for ten minutes.
fn code(user: UserId, purpose: OtpPurpose, hash: &str, issued: i64) -> OneTimeCode {
    OneTimeCode {
        id: Uuid::now_v7(),
        user_id: user,
        purpose,
        code_hash: hash.to_owned(),
        created_at: at(issued),
        expires_at: at(issued + 600),
        attempts: 0,
        consumed_at: None,
    }
}

fn issued_event(code: &OneTimeCode) -> EventEnvelope {
    let issued = CodeIssued {
        user_id: code.user_id,
        email: common::email("someone@example.com"),
        code: "123456".to_owned(),
        purpose: code.purpose.as_str().to_owned(),
        expires_in_minutes: 10,
    };
    EventEnvelope::new(&issued, code.created_at).expect("encodes")
}

/// Issues `code` as the service does: one unit of work replaces the older codes, stores
/// this one and records `CodeIssued`.
async fn issue(db: &DatabaseConnection, code: &OneTimeCode) -> Result<(), IdentityError> {
    let mut tx = common::units_of_work(db).begin().await?;
    tx.codes().replace(code).await?;
    tx.record(issued_event(code));
    tx.commit().await
}

async fn row(db: &DatabaseConnection, id: Uuid) -> code_row::Model {
    code_row::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("load code")
        .expect("the code exists")
}

#[tokio::test]
async fn replacing_voids_older_codes_of_that_purpose_and_writes_the_event() {
    for t in common::backends().await {
        let store = SeaOtpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Customer).await;
        let other_user = common::staff(&t.db, Role::Customer).await;
        let old = code(user, OtpPurpose::Login, "old", 0);
        let other_purpose = code(user, OtpPurpose::VerifyEmail, "verify", 0);
        let theirs = code(other_user, OtpPurpose::Login, "theirs", 0);
        for c in [&old, &other_purpose, &theirs] {
            issue(&t.db, c).await.expect("issue");
        }
        let new = code(user, OtpPurpose::Login, "new", 60);

        issue(&t.db, &new).await.expect("replace");

        let backend = t.backend;
        assert_eq!(
            row(&t.db, old.id).await.consumed_at,
            Some(at(60)),
            "{backend}"
        );
        assert_eq!(row(&t.db, new.id).await.consumed_at, None);
        assert_eq!(
            row(&t.db, other_purpose.id).await.consumed_at,
            None,
            "{backend}"
        );
        assert_eq!(row(&t.db, theirs.id).await.consumed_at, None, "{backend}");
        let active = store
            .find_active(user, OtpPurpose::Login, at(61))
            .await
            .expect("find active");
        assert_eq!(active.map(|c| c.id), Some(new.id), "{backend}");
        assert_eq!(common::outbox_counts(&t.db).await, (4, 4), "{backend}");
        assert_eq!(
            common::delivery_subscribers(&t.db).await,
            ["send_otp"; 4],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_replacement_dropped_without_commit_changes_nothing() {
    for t in common::backends().await {
        let user = common::staff(&t.db, Role::Customer).await;
        let old = code(user, OtpPurpose::Login, "old", 0);
        issue(&t.db, &old).await.expect("issue");
        let new = code(user, OtpPurpose::Login, "new", 60);

        {
            let mut tx = common::units_of_work(&t.db).begin().await.expect("begin");
            tx.codes().replace(&new).await.expect("replace");
            tx.record(issued_event(&new));
        }

        assert_eq!(row(&t.db, old.id).await.consumed_at, None, "{}", t.backend);
        assert!(
            code_row::Entity::find_by_id(new.id)
                .one(&t.db)
                .await
                .expect("load")
                .is_none()
        );
        assert_eq!(common::outbox_counts(&t.db).await, (1, 1), "{}", t.backend);
    }
}

#[tokio::test]
async fn the_active_code_is_the_newest_unused_unexpired_one_with_attempts_left() {
    for t in common::backends().await {
        let store = SeaOtpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Customer).await;
        let issued = code(user, OtpPurpose::VerifyEmail, "hash", 0);
        issue(&t.db, &issued).await.expect("issue");
        let find = |now| {
            let store = store.clone();
            async move {
                store
                    .find_active(user, OtpPurpose::VerifyEmail, at(now))
                    .await
                    .expect("find active")
            }
        };

        let backend = t.backend;
        assert_eq!(find(599).await.as_ref(), Some(&issued), "{backend}");
        assert_eq!(find(600).await, None, "{backend}: expired at expires_at");
        assert_eq!(
            store
                .find_active(user, OtpPurpose::Login, at(1))
                .await
                .expect("find active"),
            None,
            "{backend}: another purpose"
        );
        for _ in 0..OneTimeCode::MAX_ATTEMPTS - 1 {
            store.record_failure(issued.id).await.expect("failure");
        }
        let almost_spent = find(1).await.expect("still active");
        assert_eq!(almost_spent.attempts, OneTimeCode::MAX_ATTEMPTS - 1);
        store.record_failure(issued.id).await.expect("failure");
        assert_eq!(find(1).await, None, "{backend}: attempts spent");

        let fresh = code(user, OtpPurpose::VerifyEmail, "fresh", 10);
        issue(&t.db, &fresh).await.expect("issue");
        assert!(store.consume(fresh.id, at(11)).await.expect("consume"));
        assert_eq!(find(12).await, None, "{backend}: used");
    }
}

#[tokio::test]
async fn record_failure_counts_up_and_returns_the_new_count() {
    for t in common::backends().await {
        let store = SeaOtpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Customer).await;
        let issued = code(user, OtpPurpose::Login, "hash", 0);
        issue(&t.db, &issued).await.expect("issue");

        let mut counts = Vec::new();
        for _ in 0..3 {
            counts.push(store.record_failure(issued.id).await.expect("failure"));
        }

        assert_eq!(counts, [1, 2, 3], "{}", t.backend);
        assert_eq!(row(&t.db, issued.id).await.attempts, 3);
        assert_eq!(
            store.record_failure(Uuid::now_v7()).await.expect("unknown"),
            OneTimeCode::MAX_ATTEMPTS,
            "a code that is gone counts as spent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_guesses_are_all_counted() {
    for t in common::backends().await {
        let store = Arc::new(SeaOtpStore::new(t.db.clone()));
        let user = common::staff(&t.db, Role::Customer).await;
        let issued = code(user, OtpPurpose::Login, "hash", 0);
        issue(&t.db, &issued).await.expect("issue");

        let mut guesses = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let store = Arc::clone(&store);
            guesses.spawn(async move { store.record_failure(issued.id).await });
        }
        let mut counts = Vec::new();
        while let Some(joined) = guesses.join_next().await {
            counts.push(joined.expect("task").expect("failure"));
        }

        counts.sort_unstable();
        assert_eq!(counts, (1..=12).collect::<Vec<u32>>(), "{}", t.backend);
    }
}

#[tokio::test]
async fn a_code_is_consumed_only_once() {
    for t in common::backends().await {
        let store = SeaOtpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Customer).await;
        let issued = code(user, OtpPurpose::Login, "hash", 0);
        issue(&t.db, &issued).await.expect("issue");

        let first = store.consume(issued.id, at(5)).await.expect("consume");
        let second = store
            .consume(issued.id, at(6))
            .await
            .expect("consume again");

        assert!(first, "{}", t.backend);
        assert!(!second, "{}", t.backend);
        assert_eq!(row(&t.db, issued.id).await.consumed_at, Some(at(5)));
        assert!(!store.consume(Uuid::now_v7(), at(5)).await.expect("unknown"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_right_guesses_consume_the_code_once() {
    for t in common::backends().await {
        let store = SeaOtpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Customer).await;
        let issued = code(user, OtpPurpose::Login, "hash", 0);
        issue(&t.db, &issued).await.expect("issue");

        let (a, b) = tokio::join!(
            store.consume(issued.id, at(5)),
            store.consume(issued.id, at(5))
        );

        let wins = [a.expect("consume"), b.expect("consume")];
        assert_eq!(
            wins.iter().filter(|won| **won).count(),
            1,
            "{}: {wins:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_code_with_five_failures_can_never_be_consumed() {
    for t in common::backends().await {
        let store = SeaOtpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Customer).await;
        let issued = code(user, OtpPurpose::Login, "hash", 0);
        issue(&t.db, &issued).await.expect("issue");
        for _ in 0..OneTimeCode::MAX_ATTEMPTS {
            store.record_failure(issued.id).await.expect("failure");
        }

        let consumed = store.consume(issued.id, at(5)).await.expect("consume");

        assert!(!consumed, "{}", t.backend);
        assert_eq!(row(&t.db, issued.id).await.consumed_at, None);
    }
}

#[tokio::test]
async fn deleting_a_user_deletes_their_codes() {
    for t in common::backends().await {
        let user = common::staff(&t.db, Role::Customer).await;
        let issued = code(user, OtpPurpose::Login, "hash", 0);
        issue(&t.db, &issued).await.expect("issue");

        nexus_sea_identity::entities::user::Entity::delete_by_id(user.as_uuid())
            .exec(&t.db)
            .await
            .expect("delete the user");

        assert!(
            code_row::Entity::find_by_id(issued.id)
                .one(&t.db)
                .await
                .expect("load")
                .is_none(),
            "{}",
            t.backend
        );
    }
}
