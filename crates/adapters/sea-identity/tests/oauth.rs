//! Sign-in stores on every backend: an identity is unique on `(provider, subject)` and on
//! `(user, provider)`, each clash named; a state is spent once; unlinking removes one row.

mod common;

use std::sync::Arc;

use common::{at, user};
use nexus_identity::{
    IdentityProvider, LinkedIdentity, LinkedIdentityStore, OAuthError, OAuthState, OAuthStateStore,
    OAuthUnitOfWork, SignInIntent, UserRepository,
};
use nexus_kernel::{Clock, Role, SystemClock, UserId};
use nexus_outbox::{RoutesHandle, SubscriberRegistry};
use nexus_sea_identity::{
    SeaLinkedIdentityStore, SeaOAuthStateStore, SeaOAuthUnitOfWork, SeaUserRepository,
};
use nexus_sea_support::{DatabaseConnection, Transactions};
use uuid::Uuid;

fn units(db: &DatabaseConnection) -> SeaOAuthUnitOfWork {
    let routes = RoutesHandle::installed(SubscriberRegistry::new().shared_routes());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    SeaOAuthUnitOfWork::new(Transactions::new(db.clone(), routes, clock))
}

fn identity(user: UserId, provider: IdentityProvider, subject: &str) -> LinkedIdentity {
    LinkedIdentity {
        id: Uuid::now_v7(),
        user_id: user,
        provider,
        subject: subject.to_owned(),
        email: None,
        created_at: at(0),
        last_used_at: at(0),
    }
}

async fn link(db: &DatabaseConnection, linked: &LinkedIdentity) -> Result<(), OAuthError> {
    let tx = units(db).begin().await?;
    tx.insert_identity(linked).await?;
    tx.commit().await?;
    Ok(())
}

async fn account(db: &DatabaseConnection) -> UserId {
    let account = user(
        &format!("{}@example.com", Uuid::now_v7().simple()),
        Role::Customer,
        0,
    );
    SeaUserRepository::new(db.clone())
        .insert(&account)
        .await
        .expect("insert account");
    account.id
}

#[tokio::test]
async fn each_identity_clash_is_named() {
    for test in common::backends().await {
        let db = &test.db;
        let (ada, bob) = (account(db).await, account(db).await);
        link(db, &identity(ada, IdentityProvider::Google, "sub-1"))
            .await
            .expect("first link");

        let taken = link(db, &identity(bob, IdentityProvider::Google, "sub-1")).await;
        let twice = link(db, &identity(ada, IdentityProvider::Google, "sub-2")).await;
        let other = link(db, &identity(ada, IdentityProvider::GitHub, "sub-1")).await;

        assert!(
            matches!(taken, Err(OAuthError::IdentityTaken)),
            "{}: {taken:?}",
            test.backend
        );
        assert!(
            matches!(
                twice,
                Err(OAuthError::ProviderAlreadyLinked(IdentityProvider::Google))
            ),
            "{}: {twice:?}",
            test.backend
        );
        assert!(other.is_ok(), "{}: {other:?}", test.backend);
        let store = SeaLinkedIdentityStore::new(db.clone());
        let found = store
            .find(IdentityProvider::Google, "sub-1")
            .await
            .expect("find");
        assert_eq!(found.map(|i| i.user_id), Some(ada), "{}", test.backend);
        assert_eq!(store.list_for_user(ada).await.expect("list").len(), 2);
        assert!(
            store
                .delete(ada, IdentityProvider::GitHub)
                .await
                .expect("delete")
        );
        assert!(
            !store
                .delete(ada, IdentityProvider::GitHub)
                .await
                .expect("delete")
        );
        assert_eq!(store.list_for_user(ada).await.expect("list").len(), 1);
    }
}

#[tokio::test]
async fn a_state_is_spent_once() {
    for test in common::backends().await {
        let store = SeaOAuthStateStore::new(test.db.clone());
        let state = OAuthState {
            id: Uuid::now_v7(),
            state_hash: format!("state-{}", Uuid::now_v7().simple()),
            binding_hash: "binding".to_owned(),
            provider: IdentityProvider::GitHub,
            pkce_verifier: "verifier".to_owned(),
            nonce: "nonce".to_owned(),
            intent: SignInIntent::SignIn,
            user_id: None,
            created_at: at(0),
            expires_at: at(600),
            consumed_at: None,
        };
        store.insert(&state).await.expect("insert");

        let found = store.find(&state.state_hash).await.expect("find");
        let first = store.consume(state.id, at(1)).await.expect("consume");
        let second = store.consume(state.id, at(2)).await.expect("consume");

        assert_eq!(found.as_ref(), Some(&state), "{}", test.backend);
        assert!(first && !second, "{}", test.backend);
        let spent = store.find(&state.state_hash).await.expect("find");
        assert_eq!(spent.and_then(|s| s.consumed_at), Some(at(1)));
    }
}
