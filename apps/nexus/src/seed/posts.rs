//! Ten blog posts by the visible team: eight published, one scheduled, one draft.

use chrono::{Duration, Utc};
use nexus_content::{ContentError, NewPost};

use super::{Context as _, Seeder, Tally};
use crate::cli::CliError;

/// Slug, title, tags, what it is about.
const POSTS: [(&str, &str, &[&str], &str); 10] = [
    (
        "gst-invoices-for-digital-goods",
        "GST invoices for digital goods, explained",
        &["gst", "invoices"],
        "what a tax invoice for a download must show",
    ),
    (
        "a-pricing-sheet-that-pays-for-itself",
        "A pricing sheet that pays for itself",
        &["templates", "pricing"],
        "setting prices from costs, margins and competitors",
    ),
    (
        "upi-card-or-net-banking",
        "UPI, card or net banking: what your buyers prefer",
        &["payments"],
        "how Indian buyers choose to pay online",
    ),
    (
        "writing-a-refund-policy",
        "Writing a refund policy people trust",
        &["policies", "customers"],
        "fair, short refund terms for digital products",
    ),
    (
        "from-spreadsheet-to-dashboard",
        "From spreadsheet to dashboard in an afternoon",
        &["templates", "analytics"],
        "turning a sales sheet into a one-page dashboard",
    ),
    (
        "onboarding-your-first-hire",
        "Onboarding your first hire",
        &["hr", "templates"],
        "a checklist for the first week of a new colleague",
    ),
    (
        "answering-enquiries-faster",
        "Answering customer enquiries faster",
        &["customers", "support"],
        "templates and approvals for replies that stay consistent",
    ),
    (
        "seo-basics-for-small-stores",
        "SEO basics for small online stores",
        &["seo", "marketing"],
        "titles, descriptions and links that search engines read",
    ),
    (
        "planning-a-festive-sale",
        "Planning a festive season sale",
        &["marketing", "pricing"],
        "discounts, stock and messages for Diwali week",
    ),
    (
        "what-we-are-building-next",
        "What we are building next",
        &["news"],
        "the kits and guides on our workbench",
    ),
];

/// Creates the demo posts whose slugs are free, by the visible team in turn; publishes the
/// first eight, schedules the ninth for next week and leaves the last a draft.
pub(super) async fn seed(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let editor = seeder.staff()?.editor();
    if seeder.team.is_empty() {
        return Err(CliError::Refused(
            "seed: the blog needs a visible team member".into(),
        ));
    }
    let mut tally = Tally::default();
    for (i, (slug, title, tags, topic)) in POSTS.into_iter().enumerate() {
        let input = NewPost {
            slug: slug.to_owned(),
            title: title.to_owned(),
            body: body(title, topic),
            excerpt: None,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            author_id: seeder.team[i % seeder.team.len()],
        };
        let post = match seeder.state.posts.create(&editor, input).await {
            Ok(post) => post,
            Err(ContentError::SlugTaken) => {
                tally.skipped += 1;
                continue;
            }
            Err(e) => return Err(e).ctx("creating a post"),
        };
        match i {
            0..=7 => {
                seeder
                    .state
                    .posts
                    .publish(&editor, post.id, post.version)
                    .await
                    .ctx("publishing a post")?;
            }
            8 => {
                seeder
                    .state
                    .posts
                    .schedule(
                        &editor,
                        post.id,
                        post.version,
                        Utc::now() + Duration::days(7),
                    )
                    .await
                    .ctx("scheduling a post")?;
            }
            _ => {}
        }
        tally.created += 1;
    }
    Ok(tally)
}

/// A Markdown body of some 350 words on `topic`, with a heading, a list and a link into the
/// store.
fn body(title: &str, topic: &str) -> String {
    let paragraph = format!(
        "Small teams ask us about {topic} more than about anything else. The short answer is \
         that a little structure goes a long way: write down what you do today, keep what \
         works, and change one thing at a time. The long answer depends on your buyers, your \
         prices and the time you can spare each week, so we describe what we do ourselves \
         and what we have seen work for the businesses that use our templates."
    );
    format!(
        "{paragraph}\n\n## Where to start\n\n{paragraph}\n\n- Write down what you do today.\n\
         - Keep what works.\n- Change one thing at a time.\n\n## What we use\n\n\
         We keep our own notes on {topic} in the same kits we sell; browse them in \
         [the store](/products). {paragraph}\n\n## In short\n\n{title}: start small, measure, \
         and ask us anything at support@example.com. {paragraph}\n"
    )
}
