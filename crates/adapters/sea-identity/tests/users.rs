//! `SeaUserRepository` and `SeaStaffDirectory` on every backend.

mod common;

use common::{at, email, name, user};
use nexus_customers::{CustomersError, StaffDirectory};
use nexus_identity::{
    IdentityError, IdentityUnitOfWork, UserFilter, UserRegistered, UserRepository,
};
use nexus_kernel::{PageRequest, Role, UserId};
use nexus_outbox::EventEnvelope;
use nexus_sea_crm::SeaStaffDirectory;
use nexus_sea_identity::SeaUserRepository;
use nexus_sea_identity::entities::user as user_row;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test]
async fn an_inserted_user_is_found_by_id_and_by_email() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        let ada = user("ada@example.com", Role::Manager, 10);

        repo.insert(&ada).await.expect("insert");

        let by_id = repo.find(ada.id).await.expect("find");
        let by_email = repo
            .find_by_email(&email("ADA@example.com"))
            .await
            .expect("find by email");
        assert_eq!(by_id.as_ref(), Some(&ada), "{}", t.backend);
        assert_eq!(by_email.as_ref(), Some(&ada), "{}", t.backend);
        assert_eq!(repo.find(UserId::new()).await.expect("find"), None);
        assert_eq!(
            repo.find_by_email(&email("nobody@example.com"))
                .await
                .expect("find by email"),
            None
        );
    }
}

#[tokio::test]
async fn a_second_account_with_the_same_email_in_another_case_is_email_taken() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        repo.insert(&user("Grace@Example.com", Role::Customer, 0))
            .await
            .expect("first insert");

        let result = repo
            .insert(&user("grace@EXAMPLE.com", Role::Customer, 1))
            .await;

        assert!(
            matches!(result, Err(IdentityError::EmailTaken)),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(repo.count().await.expect("count"), 1);
    }
}

#[tokio::test]
async fn an_update_saves_every_mutable_field_and_a_stale_version_conflicts() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        let original = user("linus@example.com", Role::Cso, 0);
        repo.insert(&original).await.expect("insert");
        let mut changed = original.clone();
        changed.email = email("linus@kernel.example.com");
        changed.role = Role::Manager;
        changed.first_name = name("Linus");
        changed.last_name = name("Torvalds");
        changed.is_active = false;
        changed.email_verified = false;
        changed.version = 2;
        changed.updated_at = at(60);

        repo.update(&changed, 1).await.expect("update");
        let stale = repo.update(&changed, 1).await;

        assert_eq!(
            repo.find(original.id).await.expect("find"),
            Some(changed.clone()),
            "{}",
            t.backend
        );
        assert!(
            matches!(stale, Err(IdentityError::Conflict)),
            "{}: {stale:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn updating_a_user_that_does_not_exist_conflicts() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());

        let result = repo
            .update(&user("ghost@example.com", Role::Cso, 0), 1)
            .await;

        assert!(
            matches!(result, Err(IdentityError::Conflict)),
            "{}: {result:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn changing_an_email_to_one_in_use_is_email_taken() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        repo.insert(&user("taken@example.com", Role::Cso, 0))
            .await
            .expect("insert");
        let mut other = user("other@example.com", Role::Cso, 1);
        repo.insert(&other).await.expect("insert");
        other.email = email("TAKEN@example.com");
        other.version = 2;

        let result = repo.update(&other, 1).await;

        assert!(
            matches!(result, Err(IdentityError::EmailTaken)),
            "{}: {result:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn the_list_filters_by_role_and_activity_newest_first_with_exact_totals() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        let mut csos = Vec::new();
        for i in 0..5 {
            let mut cso = user(&format!("cso{i}@example.com"), Role::Cso, i * 10);
            cso.is_active = i != 2;
            repo.insert(&cso).await.expect("insert");
            csos.push(cso);
        }
        for i in 0..2 {
            repo.insert(&user(&format!("m{i}@example.com"), Role::Manager, 100 + i))
                .await
                .expect("insert");
        }
        let only_csos = UserFilter {
            role: Some(Role::Cso),
            is_active: None,
        };

        let first = repo
            .list(&only_csos, PageRequest::new(Some(1), Some(2)))
            .await
            .expect("page 1");
        let last = repo
            .list(&only_csos, PageRequest::new(Some(3), Some(2)))
            .await
            .expect("page 3");
        let inactive = repo
            .list(
                &UserFilter {
                    role: None,
                    is_active: Some(false),
                },
                PageRequest::default(),
            )
            .await
            .expect("inactive");
        let everyone = repo
            .list(&UserFilter::default(), PageRequest::default())
            .await
            .expect("everyone");

        let ids = |page: &nexus_kernel::Page<nexus_identity::User>| {
            page.items.iter().map(|u| u.id).collect::<Vec<_>>()
        };
        assert_eq!(first.total, 5, "{}", t.backend);
        assert_eq!(ids(&first), [csos[4].id, csos[3].id], "{}", t.backend);
        assert_eq!(last.total, 5);
        assert_eq!(ids(&last), [csos[0].id], "{}", t.backend);
        assert_eq!(ids(&inactive), [csos[2].id], "{}", t.backend);
        assert_eq!(inactive.total, 1);
        assert_eq!(everyone.total, 7);
        assert_eq!(everyone.items.len(), 7);
        assert_eq!(repo.count().await.expect("count"), 7);
    }
}

#[tokio::test]
async fn users_created_at_the_same_instant_are_listed_by_descending_id() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        let mut same = Vec::new();
        for i in 0..3 {
            let u = user(&format!("twin{i}@example.com"), Role::Cso, 5);
            repo.insert(&u).await.expect("insert");
            same.push(u.id);
        }

        let page = repo
            .list(&UserFilter::default(), PageRequest::default())
            .await
            .expect("list");

        same.sort();
        same.reverse();
        let listed: Vec<_> = page.items.iter().map(|u| u.id).collect();
        assert_eq!(listed, same, "{}", t.backend);
    }
}

#[tokio::test]
async fn a_user_row_with_an_unknown_role_is_unexpected_not_accepted() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        let u = user("odd@example.com", Role::Cso, 0);
        repo.insert(&u).await.expect("insert");
        user_row::Entity::update_many()
            .col_expr(user_row::Column::Role, Expr::value("ROOT"))
            .filter(user_row::Column::Id.eq(u.id.as_uuid()))
            .exec(&t.db)
            .await
            .expect("corrupt the row");

        let found = repo.find(u.id).await;
        let member = SeaStaffDirectory::new(t.db.clone()).find_member(u.id).await;

        assert!(
            matches!(found, Err(IdentityError::Unexpected(_))),
            "{}: {found:?}",
            t.backend
        );
        assert!(
            matches!(member, Err(CustomersError::Unexpected(_))),
            "{}: {member:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn the_staff_directory_reports_role_and_activity_from_the_users_table() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        let directory = SeaStaffDirectory::new(t.db.clone());
        let mut cso = user("officer@example.com", Role::Cso, 0);
        cso.is_active = false;
        repo.insert(&cso).await.expect("insert");

        let member = directory.find_member(cso.id).await.expect("find member");
        let nobody = directory
            .find_member(UserId::new())
            .await
            .expect("find member");

        let member = member.expect("the officer is found");
        assert_eq!(member.id, cso.id);
        assert_eq!(member.role, Role::Cso, "{}", t.backend);
        assert_eq!(member.email, email("officer@example.com"), "{}", t.backend);
        assert!(!member.is_active, "{}", t.backend);
        assert!(nobody.is_none());
    }
}

/// Registers `user` in one unit of work, recording its `UserRegistered` event.
async fn register(
    db: &sea_orm::DatabaseConnection,
    user: &nexus_identity::User,
) -> Result<(), IdentityError> {
    let mut tx = common::units_of_work(db).begin().await?;
    tx.users().insert(user).await?;
    let registered = UserRegistered { user_id: user.id };
    tx.record(EventEnvelope::new(&registered, user.created_at)?);
    tx.commit().await
}

#[tokio::test]
async fn a_committed_registration_writes_the_user_its_event_and_one_delivery() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        let ada = user("ada@example.com", Role::Customer, 0);

        register(&t.db, &ada).await.expect("register");

        assert_eq!(
            repo.find(ada.id).await.expect("find"),
            Some(ada.clone()),
            "{}",
            t.backend
        );
        assert_eq!(common::outbox_counts(&t.db).await, (1, 1), "{}", t.backend);
        assert_eq!(
            common::delivery_subscribers(&t.db).await,
            ["send_welcome"],
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_duplicate_email_writes_neither_the_user_nor_its_event() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        repo.insert(&user("grace@example.com", Role::Customer, 0))
            .await
            .expect("first insert");
        let twin = user("GRACE@example.com", Role::Customer, 1);

        let result = register(&t.db, &twin).await;

        assert!(
            matches!(result, Err(IdentityError::EmailTaken)),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(repo.find(twin.id).await.expect("find"), None);
        assert_eq!(common::outbox_counts(&t.db).await, (0, 0), "{}", t.backend);
    }
}

#[tokio::test]
async fn a_unit_of_work_dropped_without_commit_leaves_no_user_and_no_event() {
    for t in common::backends().await {
        let repo = SeaUserRepository::new(t.db.clone());
        let ada = user("ada@example.com", Role::Customer, 0);

        {
            let mut tx = common::units_of_work(&t.db).begin().await.expect("begin");
            tx.users().insert(&ada).await.expect("insert");
            let registered = UserRegistered { user_id: ada.id };
            tx.record(EventEnvelope::new(&registered, at(0)).expect("encodes"));
        }

        assert_eq!(
            repo.find(ada.id).await.expect("find"),
            None,
            "{}",
            t.backend
        );
        assert_eq!(common::outbox_counts(&t.db).await, (0, 0), "{}", t.backend);
    }
}
