//! The team shown on the storefront: six people in order, one of them hidden, each with a
//! generated portrait.

use nexus_content::{NewTeamMember, TeamLink, TeamMember};
use nexus_kernel::PageRequest;

use super::{Context as _, Seeder, Tally};
use crate::cli::CliError;

/// Name, role title, bio, visible.
const MEMBERS: [(&str, &str, &str, bool); 6] = [
    (
        "Aarav Mehta",
        "Founder",
        "Started Nexus to give small Indian businesses the templates he wished he had.",
        true,
    ),
    (
        "Priya Nair",
        "Head of content",
        "Edits every guide we sell and writes most of the blog.",
        true,
    ),
    (
        "Rohan Iyer",
        "Product designer",
        "Designs the templates and kits, from spreadsheets to slide decks.",
        true,
    ),
    (
        "Sara Thomas",
        "Customer success",
        "Answers your questions and makes sure every download works.",
        true,
    ),
    (
        "Kabir Singh",
        "Engineer",
        "Keeps the store fast and the checkout boring.",
        true,
    ),
    (
        "Meera Das",
        "Intern",
        "Joining the content team this winter.",
        false,
    ),
];

/// Creates every demo member whose name is not on the team yet; answers the whole team.
pub(super) async fn seed(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let editor = seeder.staff()?.editor();
    let mut team = Vec::new();
    for page in 1.. {
        let batch = seeder
            .state
            .team
            .list(&editor, PageRequest::new(Some(page), Some(100)))
            .await
            .ctx("reading the team")?;
        let last = batch.items.len() < 100;
        team.extend(batch.items);
        if last {
            break;
        }
    }
    let mut tally = Tally::default();
    for (name, role_title, bio, visible) in MEMBERS {
        if team.iter().any(|m: &TeamMember| m.name == name) {
            tally.skipped += 1;
            continue;
        }
        let handle = name.to_lowercase().replace(' ', "-");
        let input = NewTeamMember {
            name: name.to_owned(),
            role_title: role_title.to_owned(),
            bio: bio.to_owned(),
            links: vec![TeamLink {
                label: "LinkedIn".to_owned(),
                url: format!("https://www.linkedin.com/in/{handle}-example"),
            }],
            position: None,
            visible: Some(visible),
        };
        let member = seeder
            .state
            .team
            .create(&editor, input)
            .await
            .ctx("adding a team member")?;
        team.push(member);
        tally.created += 1;
    }
    // Everyone gets a portrait once; a photo already there (the seed's or an editor's) stays.
    for member in &mut team {
        if member.photo.is_none() {
            *member = seeder
                .state
                .team
                .set_photo(
                    &editor,
                    member.id,
                    None,
                    super::images::portrait(&member.name),
                )
                .await
                .ctx("adding a team member's photo")?;
        }
    }
    seeder.team = team
        .into_iter()
        .filter(|m| m.visible)
        .map(|m| m.id)
        .collect();
    Ok(tally)
}
