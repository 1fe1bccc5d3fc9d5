//! The adapters on a real, migrated database: SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set.

use std::sync::Arc;

use chrono::Utc;
use nexus_catalog::ProductId;
use nexus_feedback::{
    FeedbackError, FeedbackFilter, FeedbackId, FeedbackMessage, FeedbackReader, FeedbackStatus,
    FeedbackUnitOfWork, OwnershipCheck, Rating, Review, ReviewBody, ReviewId, ReviewStatus,
    SiteFeedback,
};
use nexus_kernel::{Email, FixedClock, PageRequest, UserId};
use nexus_migration::Migrator;
use nexus_outbox::{Routes, RoutesHandle};
use nexus_sea_feedback::{SeaFeedbackReader, SeaFeedbackUnitOfWork, SeaOwnershipCheck};
use nexus_sea_support::Transactions;
use nexus_sea_support::testing::{TestDb, backends};
use sea_orm::{ConnectionTrait, Statement};

fn uow(db: &TestDb) -> SeaFeedbackUnitOfWork {
    let routes = RoutesHandle::new();
    routes.install(Arc::new(Routes::default()));
    SeaFeedbackUnitOfWork::new(Transactions::new(
        db.db.clone(),
        routes,
        Arc::new(FixedClock::default()),
    ))
}

/// A user, a product and (when `owned`) an entitlement, written with plain SQL.
async fn user_and_product(db: &TestDb, email: &str, owned: bool) -> (UserId, ProductId) {
    let user = UserId::new();
    let product = ProductId::new();
    let backend = db.db.get_database_backend();
    let now = Utc::now();
    let run = |sql: &str, values: Vec<sea_orm::Value>| {
        let sql = if db.is_postgres() {
            sql.to_owned()
        } else {
            let mut out = String::new();
            let mut skip = false;
            for c in sql.chars() {
                if c == '$' {
                    out.push('?');
                    skip = true;
                } else if skip && c.is_ascii_digit() {
                } else {
                    skip = false;
                    out.push(c);
                }
            }
            out
        };
        Statement::from_sql_and_values(backend, sql, values)
    };
    db.db
        .execute_raw(run(
            "INSERT INTO users (id, email, password_hash, role, first_name, last_name, is_active, \
             email_verified, version, created_at, updated_at) \
             VALUES ($1, $2, 'x', 'CUSTOMER', 'Cara', 'buyer', true, true, 1, $3, $4)",
            vec![user.as_uuid().into(), email.into(), now.into(), now.into()],
        ))
        .await
        .expect("a user");
    db.db
        .execute_raw(run(
            "INSERT INTO products (id, slug, title, description, price_minor, currency, category, \
             tags, status, created_by, created_at, updated_at, version) \
             VALUES ($1, $2, 'Guide', '', 100, 'INR', 'guides', '[]', 'DRAFT', $3, $4, $5, 1)",
            vec![
                product.as_uuid().into(),
                format!("guide-{}", product.as_uuid().simple()).into(),
                user.as_uuid().into(),
                now.into(),
                now.into(),
            ],
        ))
        .await
        .expect("a product");
    if owned {
        let order = uuid::Uuid::now_v7();
        db.db
            .execute_raw(run(
                "INSERT INTO orders (id, user_id, total_minor, currency, status, gateway, \
                 refunded_minor, created_at, updated_at, paid_at, version) \
                 VALUES ($1, $2, 100, 'INR', 'PAID', 'dev', 0, $3, $4, $5, 1)",
                vec![
                    order.into(),
                    user.as_uuid().into(),
                    now.into(),
                    now.into(),
                    now.into(),
                ],
            ))
            .await
            .expect("an order");
        db.db
            .execute_raw(run(
                "INSERT INTO entitlements (user_id, product_id, order_id, granted_at) VALUES ($1, $2, $3, $4)",
                vec![user.as_uuid().into(), product.as_uuid().into(), order.into(), now.into()],
            ))
            .await
            .expect("an entitlement");
    }
    (user, product)
}

fn review(user: UserId, product: ProductId) -> Review {
    Review {
        id: ReviewId::new(),
        product_id: product,
        user_id: user,
        rating: Rating::new(4).expect("a rating"),
        title: None,
        body: ReviewBody::parse("Good").expect("a body"),
        status: ReviewStatus::Pending,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        published_at: None,
        version: 1,
    }
}

#[tokio::test]
async fn reviews_are_one_per_user_and_product_and_updates_are_guarded_by_version() {
    for db in backends::<Migrator>().await {
        let (user, product) =
            user_and_product(&db, &format!("a{}@example.com", db.backend), true).await;
        let uow = uow(&db);
        let reader = SeaFeedbackReader::new(db.db.clone());
        let first = review(user, product);
        let tx = uow.begin().await.expect("begin");
        tx.store().insert_review(&first).await.expect("inserted");
        tx.commit().await.expect("committed");

        let tx = uow.begin().await.expect("begin");
        let second = tx.store().insert_review(&review(user, product)).await;
        drop(tx);
        assert!(
            matches!(second, Err(FeedbackError::Conflict)),
            "{}",
            db.backend
        );

        let mut edited = first.clone();
        edited.version = 2;
        edited.status = ReviewStatus::Published;
        let tx = uow.begin().await.expect("begin");
        tx.store().update_review(&edited, 1).await.expect("updated");
        tx.commit().await.expect("committed");
        let tx = uow.begin().await.expect("begin");
        let stale = tx.store().update_review(&edited, 1).await;
        drop(tx);
        assert!(
            matches!(stale, Err(FeedbackError::Conflict)),
            "{}",
            db.backend
        );

        let found = reader.find_review_of(user, product).await.expect("read");
        assert_eq!(found.map(|r| r.version), Some(2), "{}", db.backend);
    }
}

#[tokio::test]
async fn rating_adjustments_add_up_and_are_read_in_one_batch() {
    for db in backends::<Migrator>().await {
        let (_, a) = user_and_product(&db, &format!("b{}@example.com", db.backend), false).await;
        let (_, b) = user_and_product(&db, &format!("c{}@example.com", db.backend), false).await;
        let uow = uow(&db);
        for (product, count, sum) in [(a, 1, 5), (a, 1, 3), (a, -1, -5), (b, 1, 2)] {
            let tx = uow.begin().await.expect("begin");
            tx.store()
                .adjust_rating(product, count, sum)
                .await
                .expect("adjusted");
            tx.commit().await.expect("committed");
        }
        let reader = SeaFeedbackReader::new(db.db.clone());

        let mut ratings = reader
            .ratings(&[a, b, ProductId::new()])
            .await
            .expect("read");
        ratings.sort_by_key(|(p, _)| *p);

        let mut expected = vec![(a, (1, 3)), (b, (1, 2))];
        expected.sort_by_key(|(p, _)| *p);
        let got: Vec<_> = ratings
            .iter()
            .map(|(p, s)| (*p, (s.count, s.sum)))
            .collect();
        assert_eq!(got, expected, "{}", db.backend);
    }
}

#[tokio::test]
async fn ownership_is_read_from_entitlements() {
    for db in backends::<Migrator>().await {
        let (owner, product) =
            user_and_product(&db, &format!("d{}@example.com", db.backend), true).await;
        let (stranger, _) =
            user_and_product(&db, &format!("e{}@example.com", db.backend), false).await;
        let check = SeaOwnershipCheck::new(db.db.clone());

        assert!(
            check.owns(owner, product).await.expect("read"),
            "{}",
            db.backend
        );
        assert!(
            !check.owns(stranger, product).await.expect("read"),
            "{}",
            db.backend
        );
    }
}

#[tokio::test]
async fn feedback_lists_filter_by_status_and_the_crm_matches_by_address() {
    for db in backends::<Migrator>().await {
        let email = format!("f{}@example.com", db.backend);
        let (user, product) = user_and_product(&db, &email, true).await;
        let uow = uow(&db);
        let now = Utc::now();
        let feedback = |status, address: Option<&str>| SiteFeedback {
            id: FeedbackId::new(),
            message: FeedbackMessage::parse("Hello").expect("msg"),
            name: None,
            email: address.map(|a| Email::parse(a).expect("an address")),
            page: None,
            rating: None,
            user_id: None,
            status,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let tx = uow.begin().await.expect("begin");
        tx.store()
            .insert_feedback(&feedback(FeedbackStatus::New, Some(&email)))
            .await
            .expect("inserted");
        tx.store()
            .insert_feedback(&feedback(
                FeedbackStatus::Published,
                Some("other@example.com"),
            ))
            .await
            .expect("inserted");
        tx.store()
            .insert_review(&review(user, product))
            .await
            .expect("inserted");
        tx.commit().await.expect("committed");
        let reader = SeaFeedbackReader::new(db.db.clone());

        let published = reader
            .list_feedback(
                FeedbackFilter {
                    status: Some(FeedbackStatus::Published),
                },
                PageRequest::new(None, None),
            )
            .await
            .expect("listed");
        let said = reader
            .by_email(
                &Email::parse(&email).expect("an address"),
                PageRequest::new(Some(1), Some(1)),
            )
            .await
            .expect("listed");

        assert_eq!(published.total, 1, "{}", db.backend);
        assert_eq!(said.total, 2, "{}", db.backend);
        assert_eq!(said.items.len(), 1, "{}", db.backend);
    }
}
