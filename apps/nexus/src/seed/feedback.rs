//! Product reviews by the buyers who own the products, and site feedback, moderated by the
//! editor: most published, some hidden with a reason, some still waiting.

use nexus_feedback::{
    FeedbackFilter, FeedbackMessage, ModerationAction, ModerationReason, NewFeedback, PagePath,
    Rating, ReviewBody, ReviewFilter, ReviewInput, ReviewTitle, SenderName, Submission,
};
use nexus_kernel::{Email, PageRequest, Role};

use super::orders::BUYERS;
use super::{Context as _, Seeder, Tally, rng};
use crate::cli::CliError;

/// Review texts: stars, title, body.
const REVIEWS: [(i64, &str, &str); 8] = [
    (
        5,
        "Exactly what I needed",
        "Saved me hours of work. Clear, well organised and easy to adapt.",
    ),
    (
        4,
        "Very useful",
        "Good value for the price. A few more examples would make it perfect.",
    ),
    (
        5,
        "Bahut badhiya!",
        "Used it for my small business the same day. Highly recommended.",
    ),
    (3, "Decent", "Does the job, though some parts felt generic."),
    (
        5,
        "Professional quality",
        "Looks polished and the download was instant.",
    ),
    (
        4,
        "Great starting point",
        "I customised it in an evening. The invoice came with our GST details.",
    ),
    (
        2,
        "Not for beginners",
        "Assumes more background than the description suggests.",
    ),
    (
        5,
        "Worth every rupee",
        "Clear instructions and quick support when I had a question.",
    ),
];

/// Site feedback: message, page, stars. The first one marks that the kind already ran.
const SITE: [(&str, &str, i64); 10] = [
    (
        "Checkout with UPI was quick and smooth. Thank you!",
        "/checkout",
        5,
    ),
    ("Please add a dark mode to the store.", "/", 4),
    ("The FAQ answered my question about invoices.", "/faq", 5),
    (
        "Search could understand Hindi product names too.",
        "/products",
        3,
    ),
    ("Downloads are fast even on mobile data.", "/library", 5),
    (
        "I would love more planners in regional languages.",
        "/products",
        4,
    ),
    (
        "The contact page should list a phone number.",
        "/contact",
        3,
    ),
    ("Great selection of templates for small businesses.", "/", 5),
    ("Buy cheap followers at spam.example!!!", "/", 1),
    ("Refund was processed within a day, impressive.", "/faq", 5),
];

/// Reviews of owned products by each demo buyer, unless the first buyer already wrote one.
pub(super) async fn reviews(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let editor = seeder.staff()?.editor();
    let accounts = seeder.accounts(Role::Customer).await?;
    let mut rng = rng("reviews");
    let mut tally = Tally::default();
    let mut written = 0usize;
    for (i, (email, _, _)) in BUYERS.into_iter().enumerate() {
        let Some(user) = accounts.get(email) else {
            continue;
        };
        let buyer = crate::access::actor(user.id, Role::Customer);
        let feedback = &seeder.state.feedback;
        if i == 0 {
            let mine = feedback
                .my_reviews(&buyer, PageRequest::new(Some(1), Some(1)))
                .await
                .ctx("looking for the demo reviews")?;
            if mine.total > 0 {
                let all = feedback
                    .list_reviews(
                        &editor,
                        ReviewFilter::default(),
                        PageRequest::new(Some(1), Some(1)),
                    )
                    .await
                    .ctx("counting the reviews")?;
                tally.skipped = usize::try_from(all.total).unwrap_or(usize::MAX);
                return Ok(tally);
            }
        }
        let owned = seeder
            .state
            .orders
            .library(&buyer, PageRequest::new(Some(1), Some(100)))
            .await
            .ctx("reading a buyer's library")?;
        for entry in owned.items {
            let (stars, title, body) = REVIEWS[rng.usize(..REVIEWS.len())];
            let input = ReviewInput {
                rating: Rating::new(stars).ctx("a rating")?,
                title: Some(ReviewTitle::parse(title).ctx("a review title")?),
                body: ReviewBody::parse(body).ctx("a review")?,
            };
            let review = feedback
                .put_review(&buyer, entry.product_id, input, None)
                .await
                .ctx("writing a review")?
                .review;
            tally.created += 1;
            written += 1;
            // Every seventh waits for a moderator; the rest are decided now.
            let (action, reason) = match written % 7 {
                0 => continue,
                3 if stars <= 2 => (
                    ModerationAction::Hide,
                    Some(ModerationReason::parse("Off-topic for the product").ctx("a reason")?),
                ),
                _ => (ModerationAction::Publish, None),
            };
            feedback
                .moderate_review(&editor, review.id, action, reason, Some(review.version))
                .await
                .ctx("moderating a review")?;
        }
    }
    Ok(tally)
}

/// Site feedback from visitors and buyers, unless the first message is already there.
pub(super) async fn site(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let editor = seeder.staff()?.editor();
    let feedback = &seeder.state.feedback;
    let recent = feedback
        .list_feedback(
            &editor,
            FeedbackFilter::default(),
            PageRequest::new(Some(1), Some(100)),
        )
        .await
        .ctx("looking for the demo feedback")?;
    if recent.items.iter().any(|f| f.message.as_str() == SITE[0].0) {
        return Ok(Tally {
            created: 0,
            skipped: SITE.len(),
        });
    }
    let mut tally = Tally::default();
    for (i, (message, page, stars)) in SITE.into_iter().enumerate() {
        // Some sign their feedback with a buyer's name and address.
        let signed = BUYERS.get(i).filter(|_| i % 2 == 0);
        let input = NewFeedback {
            message: FeedbackMessage::parse(message).ctx("a feedback message")?,
            name: signed
                .map(|(_, first, last)| SenderName::parse(&format!("{first} {last}")))
                .transpose()
                .ctx("a sender name")?,
            email: signed
                .map(|(email, _, _)| Email::parse(email))
                .transpose()
                .ctx("a sender address")?,
            page: Some(PagePath::parse(page).ctx("a page path")?),
            rating: Some(Rating::new(stars).ctx("a rating")?),
            trap: None,
        };
        let Submission::Received(id) =
            feedback.submit(None, input).await.ctx("sending feedback")?
        else {
            continue;
        };
        tally.created += 1;
        let (action, reason) = match i {
            8 => (
                ModerationAction::Hide,
                Some(ModerationReason::parse("Spam").ctx("a reason")?),
            ),
            3 | 6 => continue,
            _ => (ModerationAction::Publish, None),
        };
        feedback
            .moderate_feedback(&editor, id, action, reason, None)
            .await
            .ctx("moderating feedback")?;
    }
    Ok(tally)
}
