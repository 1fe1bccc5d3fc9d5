//! Staff of every role: the demo accounts, all with the documented demo password.

use nexus_identity::{IdentityError, NewStaffUser};
use nexus_kernel::{Email, PersonName, Role, UserId};

use super::{Context as _, Seeder, Staff, Tally};
use crate::cli::{CliError, DEMO_PASSWORD};

/// The demo staff: e-mail, given name, family name, role.
pub(crate) const STAFF: [(&str, &str, &str, Role); 6] = [
    ("admin@nexus.local", "Asha", "Iyer", Role::Admin),
    ("manager@nexus.local", "Maya", "Manager", Role::Manager),
    ("cso1@nexus.local", "Chris", "Officer", Role::Cso),
    ("cso2@nexus.local", "Sam", "Officer", Role::Cso),
    ("cso3@nexus.local", "Priya", "Nair", Role::Cso),
    ("editor@nexus.local", "Eda", "Editor", Role::Editor),
];

/// Creates the demo staff that are missing and records who they are.
pub(super) async fn seed(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    // Seeding acts as a system administrator that exists only for this run.
    let system = crate::access::actor(UserId::new(), Role::Admin);
    let mut tally = Tally::default();
    for (email, first, last, role) in STAFF {
        let input = NewStaffUser {
            email: Email::parse(email).ctx("a staff address")?,
            password: DEMO_PASSWORD.into(),
            first_name: PersonName::parse(first).ctx("a staff name")?,
            last_name: PersonName::parse(last).ctx("a staff name")?,
            role,
        };
        match seeder.state.identity.create_user(&system, input).await {
            Ok(_) => tally.created += 1,
            Err(IdentityError::EmailTaken) => tally.skipped += 1,
            Err(e) => return Err(e).ctx("creating a staff account"),
        }
    }
    let mut ids = Vec::new();
    for role in [Role::Admin, Role::Manager, Role::Cso, Role::Editor] {
        ids.push(seeder.accounts(role).await?);
    }
    let find = |email: &str| {
        ids.iter()
            .find_map(|accounts| accounts.get(email))
            .map(|u| u.id)
            .ok_or_else(|| {
                CliError::Refused(format!(
                    "seed: {email} exists with another role; seed a fresh database"
                ))
            })
    };
    seeder.staff = Some(Staff {
        admin: find("admin@nexus.local")?,
        manager: find("manager@nexus.local")?,
        officers: vec![
            find("cso1@nexus.local")?,
            find("cso2@nexus.local")?,
            find("cso3@nexus.local")?,
        ],
        editor: find("editor@nexus.local")?,
    });
    Ok(tally)
}
