//! `SeaTotpStore` on every backend: enrolment states, steps and codes spent once,
//! challenges counted and spent once.

mod common;

use common::at;
use nexus_identity::{ClientInfo, MfaChallenge, TotpEnrolment, TotpStore};
use nexus_kernel::{Role, UserId};
use nexus_sea_identity::SeaTotpStore;

fn pending(user: UserId) -> TotpEnrolment {
    TotpEnrolment {
        user_id: user,
        sealed_secret: "v1.sealed".to_owned(),
        enabled_at: None,
        last_step: None,
        created_at: at(0),
    }
}

fn challenge(user: UserId, hash: &str) -> MfaChallenge {
    MfaChallenge {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        token_hash: hash.to_owned(),
        client: ClientInfo {
            device: "Safari on iOS".to_owned(),
            ip_prefix: None,
        },
        created_at: at(0),
        expires_at: at(300),
        attempts: 0,
        consumed_at: None,
    }
}

#[tokio::test]
async fn an_enrolment_is_replaced_while_pending_and_kept_once_enabled() {
    for t in common::backends().await {
        let store = SeaTotpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Manager).await;

        assert!(store.start(&pending(user)).await.expect("start"));
        let again = TotpEnrolment {
            sealed_secret: "v1.second".to_owned(),
            ..pending(user)
        };
        assert!(store.start(&again).await.expect("restart"));
        assert!(!store.is_enabled(user).await.expect("answers"));
        let hashes: Vec<String> = (0..10).map(|i| format!("hash-{i}")).collect();
        assert!(store.enable(user, &hashes, 100, at(5)).await.expect("on"));
        assert!(!store.enable(user, &hashes, 101, at(6)).await.expect("once"));
        assert!(store.is_enabled(user).await.expect("answers"));
        assert!(
            !store.start(&pending(user)).await.expect("refused"),
            "{}",
            t.backend
        );
        let stored = store.find(user).await.expect("find").expect("there");
        assert_eq!(stored.sealed_secret, "v1.second", "{}", t.backend);
        assert_eq!(stored.last_step, Some(100));

        assert!(store.disable(user).await.expect("off"));
        assert!(store.find(user).await.expect("find").is_none());
        assert!(
            !store
                .use_recovery_code(user, "hash-1", at(7))
                .await
                .expect("gone")
        );
    }
}

#[tokio::test]
async fn a_step_and_a_recovery_code_are_each_spent_once() {
    for t in common::backends().await {
        let store = SeaTotpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        store.start(&pending(user)).await.expect("start");
        // Nothing is claimed while pending.
        assert!(!store.claim_step(user, 99).await.expect("answers"));
        store
            .enable(user, &["r1".to_owned(), "r2".to_owned()], 100, at(0))
            .await
            .expect("on");

        let (a, b) = tokio::join!(store.claim_step(user, 101), store.claim_step(user, 101));
        assert_eq!(
            [a.expect("a"), b.expect("b")]
                .iter()
                .filter(|x| **x)
                .count(),
            1,
            "{}",
            t.backend
        );
        assert!(!store.claim_step(user, 100).await.expect("older"));
        assert!(store.claim_step(user, 102).await.expect("newer"));

        assert!(
            store
                .use_recovery_code(user, "r1", at(1))
                .await
                .expect("first")
        );
        assert!(
            !store
                .use_recovery_code(user, "r1", at(2))
                .await
                .expect("again")
        );
        assert!(
            !store
                .use_recovery_code(user, "unknown", at(2))
                .await
                .expect("unknown")
        );
        assert!(
            store
                .use_recovery_code(user, "r2", at(3))
                .await
                .expect("second")
        );
    }
}

#[tokio::test]
async fn a_challenge_counts_failures_and_is_spent_once() {
    for t in common::backends().await {
        let store = SeaTotpStore::new(t.db.clone());
        let user = common::staff(&t.db, Role::Cso).await;
        let first = challenge(user, "challenge-1");
        store.insert_challenge(&first).await.expect("insert");

        let found = store
            .find_challenge("challenge-1")
            .await
            .expect("find")
            .expect("there");
        assert_eq!(found, first, "{}", t.backend);
        assert_eq!(
            store.record_challenge_failure(first.id).await.expect("1"),
            1
        );
        assert_eq!(
            store.record_challenge_failure(first.id).await.expect("2"),
            2
        );
        assert!(
            !store
                .consume_challenge(first.id, at(300))
                .await
                .expect("expired")
        );
        let (a, b) = tokio::join!(
            store.consume_challenge(first.id, at(10)),
            store.consume_challenge(first.id, at(10))
        );
        assert_eq!(
            [a.expect("a"), b.expect("b")]
                .iter()
                .filter(|x| **x)
                .count(),
            1,
            "{}",
            t.backend
        );

        let exhausted = challenge(user, "challenge-2");
        store.insert_challenge(&exhausted).await.expect("insert");
        for _ in 0..MfaChallenge::MAX_ATTEMPTS {
            store
                .record_challenge_failure(exhausted.id)
                .await
                .expect("count");
        }
        assert!(
            !store
                .consume_challenge(exhausted.id, at(10))
                .await
                .expect("void"),
            "{}",
            t.backend
        );
    }
}
