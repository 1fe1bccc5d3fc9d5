//! Team members: who works here, shown on the public team page in the order staff give,
//! each with an optional photo kept in the object store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::blocks::check_url;
use crate::{ContentError, FieldIssue, TeamMemberId};

/// Longest name and role title, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// Longest bio, in characters.
pub const MAX_BIO_CHARS: usize = 5_000;
/// Most links per member.
pub const MAX_LINKS: usize = 10;
/// Longest link label, in characters.
pub const MAX_LINK_LABEL_CHARS: usize = 60;
/// Largest photo accepted, in bytes (the catalog's image limit, 2 MiB).
pub const MAX_PHOTO_BYTES: usize = nexus_catalog::MAX_IMAGE_BYTES;

/// One link of a member (a profile, a site): a label and an https:// URL or a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamLink {
    /// What the link is (`LinkedIn`, `GitHub`...).
    pub label: String,
    /// Where it goes.
    pub url: String,
}

/// A stored photo (or post cover).
pub type TeamPhoto = nexus_catalog::StoredImage;

/// A team member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    /// Id.
    pub id: TeamMemberId,
    /// Full name.
    pub name: String,
    /// Role title (`Head of Support`).
    pub role_title: String,
    /// Short biography (plain text).
    pub bio: String,
    /// Links.
    pub links: Vec<TeamLink>,
    /// Place in the team list, smaller first (ties by id).
    pub position: i32,
    /// Shown to the public.
    pub visible: bool,
    /// The photo, when one was uploaded.
    pub photo: Option<TeamPhoto>,
    /// Optimistic version, 1 when created.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The fields of a new member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTeamMember {
    /// Name.
    pub name: String,
    /// Role title.
    pub role_title: String,
    /// Bio.
    pub bio: String,
    /// Links.
    pub links: Vec<TeamLink>,
    /// Position (`None`: after the others).
    pub position: Option<i32>,
    /// Visible (default true).
    pub visible: Option<bool>,
}

/// A change of some of a member's fields (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamMemberChange {
    /// Name.
    pub name: Option<String>,
    /// Role title.
    pub role_title: Option<String>,
    /// Bio.
    pub bio: Option<String>,
    /// Links.
    pub links: Option<Vec<TeamLink>>,
    /// Position.
    pub position: Option<i32>,
    /// Visible.
    pub visible: Option<bool>,
}

/// A text field: trimmed, required to have something when `required`, and at most `max`
/// characters as sent (the OpenAPI document states the limits on the raw value).
fn text(
    issues: &mut Vec<FieldIssue>,
    field: &str,
    raw: &str,
    max: usize,
    required: bool,
) -> String {
    let value = raw.trim().to_owned();
    if raw.chars().count() > max {
        issues.push(FieldIssue::new(
            field,
            "too_long",
            format!("must be at most {max} characters"),
        ));
    } else if required && value.is_empty() {
        issues.push(FieldIssue::new(field, "required", "must not be blank"));
    }
    value
}

fn links(issues: &mut Vec<FieldIssue>, raw: &[TeamLink]) -> Vec<TeamLink> {
    if raw.len() > MAX_LINKS {
        issues.push(FieldIssue::new(
            "links",
            "too_many",
            format!("at most {MAX_LINKS} links"),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, l)| {
            let label = text(
                issues,
                &format!("links[{i}].label"),
                &l.label,
                MAX_LINK_LABEL_CHARS,
                true,
            );
            let url = l.url.trim().to_owned();
            if let Err(message) = check_url(&url) {
                issues.push(FieldIssue::new(
                    format!("links[{i}].url"),
                    "invalid",
                    message,
                ));
            }
            TeamLink { label, url }
        })
        .collect()
}

impl TeamMember {
    /// A new member from `input`, at `position_if_unset` when it gives none.
    ///
    /// # Errors
    /// `Invalid` listing every field that breaks its rule.
    pub fn create(
        input: NewTeamMember,
        position_if_unset: i32,
        now: DateTime<Utc>,
    ) -> Result<Self, ContentError> {
        let mut issues = Vec::new();
        let name = text(&mut issues, "name", &input.name, MAX_NAME_CHARS, true);
        let role_title = text(
            &mut issues,
            "roleTitle",
            &input.role_title,
            MAX_NAME_CHARS,
            true,
        );
        let bio = text(&mut issues, "bio", &input.bio, MAX_BIO_CHARS, false);
        let links = links(&mut issues, &input.links);
        if !issues.is_empty() {
            return Err(ContentError::Invalid(issues));
        }
        Ok(Self {
            id: TeamMemberId::new(),
            name,
            role_title,
            bio,
            links,
            position: input.position.unwrap_or(position_if_unset),
            visible: input.visible.unwrap_or(true),
            photo: None,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies `change`; the names of the fields whose value changed.
    ///
    /// # Errors
    /// `Invalid` listing every field that breaks its rule (nothing is changed then).
    pub fn apply(&mut self, change: TeamMemberChange) -> Result<Vec<&'static str>, ContentError> {
        let mut issues = Vec::new();
        let name = change
            .name
            .map(|v| text(&mut issues, "name", &v, MAX_NAME_CHARS, true));
        let role_title = change
            .role_title
            .map(|v| text(&mut issues, "roleTitle", &v, MAX_NAME_CHARS, true));
        let bio = change
            .bio
            .map(|v| text(&mut issues, "bio", &v, MAX_BIO_CHARS, false));
        let new_links = change.links.map(|v| links(&mut issues, &v));
        if !issues.is_empty() {
            return Err(ContentError::Invalid(issues));
        }
        let mut changed = Vec::new();
        if let Some(v) = name
            && v != self.name
        {
            self.name = v;
            changed.push("name");
        }
        if let Some(v) = role_title
            && v != self.role_title
        {
            self.role_title = v;
            changed.push("roleTitle");
        }
        if let Some(v) = bio
            && v != self.bio
        {
            self.bio = v;
            changed.push("bio");
        }
        if let Some(v) = new_links
            && v != self.links
        {
            self.links = v;
            changed.push("links");
        }
        if let Some(v) = change.position
            && v != self.position
        {
            self.position = v;
            changed.push("position");
        }
        if let Some(v) = change.visible
            && v != self.visible
        {
            self.visible = v;
            changed.push("visible");
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_lists_every_bad_field_and_changes_only_what_differs() {
        let now = Utc::now();
        let err = TeamMember::create(
            NewTeamMember {
                name: " ".into(),
                role_title: "x".repeat(121),
                links: vec![TeamLink {
                    label: "Site".into(),
                    url: "javascript:alert(1)".into(),
                }],
                ..NewTeamMember::default()
            },
            0,
            now,
        )
        .expect_err("invalid");
        let ContentError::Invalid(issues) = err else {
            panic!("not Invalid")
        };
        let fields: Vec<_> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, ["name", "roleTitle", "links[0].url"]);

        let mut m = TeamMember::create(
            NewTeamMember {
                name: "Asha".into(),
                role_title: "Support".into(),
                ..NewTeamMember::default()
            },
            7,
            now,
        )
        .expect("valid");
        assert_eq!((m.position, m.visible), (7, true));
        let changed = m
            .apply(TeamMemberChange {
                name: Some("Asha".into()),
                visible: Some(false),
                ..TeamMemberChange::default()
            })
            .expect("valid");
        assert_eq!(changed, ["visible"]);
    }
}
