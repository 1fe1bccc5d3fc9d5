//! Unit tests of `TeamService` over mocked ports: permissions, versions, the order of
//! writes in one unit of work, and what happens to stored photos.

use std::sync::Arc;

use nexus_catalog::MockAssetStore;
use nexus_kernel::{Clock, FixedClock, Role, UserId};

use crate::permissions::actor;
use crate::test_support::{Log, Tx, assets, entries};
use crate::{
    ContentError, MockContentUnitOfWork, MockPageStore, MockTeamRepository, MockTeamStore,
    NewTeamMember, TeamMember, TeamMemberChange, TeamMemberId, TeamPhoto, TeamService,
};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A unit of work whose team store answers `update` with `update_result` (Ok or a stale
/// version's Conflict) and logs every write.
fn uow(log: &Log, update_conflicts: bool) -> MockContentUnitOfWork {
    let mut uow = MockContentUnitOfWork::new();
    let log = log.clone();
    uow.expect_begin().returning(move || {
        let mut team = MockTeamStore::new();
        let l = log.clone();
        team.expect_insert().returning(move |m| {
            l.lock()
                .expect("lock")
                .push(format!("team.insert at {}", m.position));
            Ok(())
        });
        let l = log.clone();
        team.expect_update().returning(move |m, expected| {
            if update_conflicts {
                return Err(ContentError::Conflict);
            }
            l.lock().expect("lock").push(format!(
                "team.update v{expected}->v{} at {}",
                m.version, m.position
            ));
            Ok(())
        });
        let l = log.clone();
        team.expect_delete().returning(move |_, expected| {
            l.lock()
                .expect("lock")
                .push(format!("team.delete v{expected}"));
            Ok(())
        });
        let mut pages = MockPageStore::new();
        let l = log.clone();
        pages.expect_insert_audit().returning(move |entry| {
            l.lock()
                .expect("lock")
                .push(format!("audit:{}", entry.action));
            Ok(())
        });
        Ok(Box::new(Tx::new(
            Arc::new(pages),
            team,
            crate::MockPostStore::new(),
            log.clone(),
        )))
    });
    uow
}

fn member(version: i64, photo: Option<&str>) -> TeamMember {
    let now = FixedClock::default().now();
    TeamMember {
        id: TeamMemberId::new(),
        name: "Asha".to_owned(),
        role_title: "Engineer".to_owned(),
        bio: "Builds things.".to_owned(),
        links: Vec::new(),
        position: 3,
        visible: true,
        photo: photo.map(|key| TeamPhoto {
            key: key.to_owned(),
            content_type: "image/png".to_owned(),
            size: 12,
        }),
        version,
        created_at: now,
        updated_at: now,
    }
}

fn repo_with(members: Vec<TeamMember>) -> MockTeamRepository {
    let mut repo = MockTeamRepository::new();
    repo.expect_find()
        .returning(move |id| Ok(members.iter().find(|m| m.id == id).cloned()));
    repo.expect_max_position().returning(|| Ok(Some(4)));
    repo
}

fn service(
    repo: MockTeamRepository,
    uow: MockContentUnitOfWork,
    assets: MockAssetStore,
) -> TeamService {
    TeamService::new(
        Arc::new(repo),
        Arc::new(uow),
        Arc::new(assets),
        Arc::new(FixedClock::default()),
    )
}

fn editor() -> nexus_kernel::Actor {
    actor(UserId::new(), Role::Editor)
}

#[tokio::test]
async fn only_content_staff_may_write_and_nothing_is_begun_for_others() {
    let log = Log::default();
    let m = member(1, None);
    let svc = service(
        repo_with(vec![m.clone()]),
        MockContentUnitOfWork::new(),
        MockAssetStore::new(),
    );
    for role in [Role::Cso, Role::Customer] {
        let who = actor(UserId::new(), role);
        let input = NewTeamMember {
            name: "Ben".to_owned(),
            role_title: "Support".to_owned(),
            ..NewTeamMember::default()
        };
        assert!(matches!(
            svc.create(&who, input).await,
            Err(ContentError::Forbidden)
        ));
        assert!(matches!(
            svc.delete(&who, m.id, Some(1)).await,
            Err(ContentError::Forbidden)
        ));
        assert!(matches!(
            svc.set_photo(&who, m.id, None, PNG.to_vec()).await,
            Err(ContentError::Forbidden)
        ));
    }
    assert!(entries(&log).is_empty());
}

#[tokio::test]
async fn a_new_member_goes_after_the_others_with_its_audit_entry_and_event_in_one_commit() {
    let log = Log::default();
    let svc = service(
        repo_with(Vec::new()),
        uow(&log, false),
        MockAssetStore::new(),
    );
    let created = svc
        .create(
            &editor(),
            NewTeamMember {
                name: "Ben".to_owned(),
                role_title: "Support".to_owned(),
                ..NewTeamMember::default()
            },
        )
        .await
        .expect("created");
    assert_eq!((created.position, created.version), (5, 1));
    assert_eq!(
        entries(&log),
        [
            "team.insert at 5",
            "audit:created",
            "content.team_member_changed",
            "commit"
        ]
    );
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_before_any_unit_of_work() {
    let log = Log::default();
    let m = member(3, None);
    let svc = service(
        repo_with(vec![m.clone()]),
        MockContentUnitOfWork::new(),
        MockAssetStore::new(),
    );
    let change = TeamMemberChange {
        name: Some("Asha K".to_owned()),
        ..TeamMemberChange::default()
    };
    assert!(matches!(
        svc.update(&editor(), m.id, 2, change).await,
        Err(ContentError::Conflict)
    ));
    assert!(matches!(
        svc.delete(&editor(), m.id, Some(2)).await,
        Err(ContentError::Conflict)
    ));
    assert!(matches!(
        svc.reorder(&editor(), vec![(m.id, 2)]).await,
        Err(ContentError::Conflict)
    ));
    assert!(entries(&log).is_empty());
}

#[tokio::test]
async fn a_reorder_numbers_members_from_zero_in_one_commit_and_refuses_repeats() {
    let log = Log::default();
    let (a, b) = (member(1, None), member(4, None));
    let svc = service(
        repo_with(vec![a.clone(), b.clone()]),
        uow(&log, false),
        MockAssetStore::new(),
    );
    let repeated = svc.reorder(&editor(), vec![(a.id, 1), (a.id, 1)]).await;
    assert!(
        matches!(repeated, Err(ContentError::Invalid(_))),
        "{repeated:?}"
    );
    assert!(entries(&log).is_empty());

    let saved = svc
        .reorder(&editor(), vec![(b.id, 4), (a.id, 1)])
        .await
        .expect("reordered");
    assert_eq!(
        saved
            .iter()
            .map(|m| (m.id, m.position, m.version))
            .collect::<Vec<_>>(),
        [(b.id, 0, 5), (a.id, 1, 2)]
    );
    assert_eq!(
        entries(&log),
        [
            "team.update v4->v5 at 0",
            "audit:reordered",
            "team.update v1->v2 at 1",
            "audit:reordered",
            "content.team_member_changed",
            "content.team_member_changed",
            "commit",
        ]
    );
}

#[tokio::test]
async fn a_new_photo_replaces_the_old_one_which_is_then_deleted() {
    let log = Log::default();
    let m = member(2, Some("content/team/old.png"));
    let svc = service(repo_with(vec![m.clone()]), uow(&log, false), assets(&log));
    let saved = svc
        .set_photo(&editor(), m.id, Some(2), PNG.to_vec())
        .await
        .expect("saved");
    let photo = saved.photo.expect("a photo");
    assert_eq!(photo.content_type, "image/png");
    assert!(
        photo
            .key
            .starts_with(&format!("content/team/{}/photo-", m.id))
    );
    let log = entries(&log);
    assert_eq!(log[0], format!("put {}", photo.key));
    assert_eq!(
        log.last().map(String::as_str),
        Some("delete content/team/old.png")
    );
    let committed = log.iter().position(|e| e == "commit").expect("committed");
    assert_eq!(
        committed,
        log.len() - 2,
        "deleted only after the commit: {log:?}"
    );
}

#[tokio::test]
async fn a_photo_whose_save_fails_is_deleted_and_the_old_one_kept() {
    let log = Log::default();
    let m = member(2, Some("content/team/old.png"));
    let svc = service(repo_with(vec![m.clone()]), uow(&log, true), assets(&log));
    let result = svc.set_photo(&editor(), m.id, Some(2), PNG.to_vec()).await;
    assert!(matches!(result, Err(ContentError::Conflict)), "{result:?}");
    let log = entries(&log);
    assert_eq!(log.len(), 2, "{log:?}");
    let stored = log[0].strip_prefix("put ").expect("stored first");
    assert_eq!(log[1], format!("delete {stored}"));
}

#[tokio::test]
async fn a_file_that_is_not_an_image_is_refused_before_anything_is_stored() {
    let log = Log::default();
    let m = member(2, None);
    let svc = service(repo_with(vec![m.clone()]), uow(&log, false), assets(&log));
    let result = svc
        .set_photo(&editor(), m.id, None, b"GIF89a\x01\0\x01\0".to_vec())
        .await;
    assert!(
        matches!(result, Err(ContentError::UnsupportedImage)),
        "{result:?}"
    );
    assert!(entries(&log).is_empty());
}

#[tokio::test]
async fn deleting_a_member_deletes_its_photo_after_the_commit() {
    let log = Log::default();
    let m = member(7, Some("content/team/me.png"));
    let svc = service(repo_with(vec![m.clone()]), uow(&log, false), assets(&log));
    svc.delete(&editor(), m.id, Some(7)).await.expect("deleted");
    assert_eq!(
        entries(&log),
        [
            "team.delete v7",
            "audit:deleted",
            "content.team_member_changed",
            "commit",
            "delete content/team/me.png",
        ]
    );
}
