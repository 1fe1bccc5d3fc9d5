//! Site feedback, product reviews, their moderation and the rating summary.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::{Email, UserId};

use crate::{FeedbackError, FeedbackId, ReviewId};

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidText {
    /// Nothing but white space.
    #[error("must not be empty")]
    Empty,
    /// Longer than the limit.
    #[error("must be at most {0} characters")]
    TooLong(usize),
    /// Contains control characters (line breaks and tabs are fine in long texts).
    #[error("must not contain control characters")]
    ControlCharacter,
}

fn checked(raw: &str, max: usize, empty_ok: bool, multiline: bool) -> Result<String, InvalidText> {
    let s = raw.trim();
    if s.is_empty() && !empty_ok {
        return Err(InvalidText::Empty);
    }
    if s.chars().count() > max {
        return Err(InvalidText::TooLong(max));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if s.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(InvalidText::ControlCharacter);
    }
    Ok(s.to_owned())
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $max:expr, $empty_ok:expr, $multiline:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Trims and checks `raw`.
            ///
            /// # Errors
            /// `InvalidText` naming the first rule broken.
            pub fn parse(raw: &str) -> Result<Self, InvalidText> {
                checked(raw, $max, $empty_ok, $multiline).map(Self)
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

text_value!(
    /// A site feedback message: 1 to 5000 characters, line breaks allowed.
    FeedbackMessage, 5000, false, true
);
text_value!(
    /// The name a visitor gives with feedback: 1 to 100 characters.
    SenderName, 100, false, false
);
text_value!(
    /// A review's title: 1 to 120 characters.
    ReviewTitle, 120, false, false
);
text_value!(
    /// A review's text: at most 5000 characters (may be empty: the rating says it all).
    ReviewBody, 5000, true, true
);
text_value!(
    /// Why a moderator hid something: 1 to 500 characters.
    ModerationReason, 500, false, true
);

/// A rating from 1 to 5 stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rating(u8);

/// A rating outside 1..=5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 1 to 5")]
pub struct InvalidRating;

impl Rating {
    /// Checks `raw` is 1..=5.
    ///
    /// # Errors
    /// `InvalidRating` otherwise.
    pub fn new(raw: i64) -> Result<Self, InvalidRating> {
        u8::try_from(raw)
            .ok()
            .filter(|n| (1..=5).contains(n))
            .map(Self)
            .ok_or(InvalidRating)
    }

    /// The number of stars.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// The page of the site feedback was sent from: a relative path (`/pricing?x=1`), at most
/// 500 characters, without white space or control characters, never `//host` (which is an
/// absolute address in disguise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePath(String);

/// A page that is not a relative path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a relative path starting with '/', at most 500 characters")]
pub struct InvalidPagePath;

impl PagePath {
    /// The longest accepted, in characters.
    pub const MAX_CHARS: usize = 500;

    /// Checks `raw`.
    ///
    /// # Errors
    /// `InvalidPagePath` when it is not a relative path.
    pub fn parse(raw: &str) -> Result<Self, InvalidPagePath> {
        let ok = raw.starts_with('/')
            && !raw.starts_with("//")
            && raw.chars().count() <= Self::MAX_CHARS
            && !raw
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\\');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidPagePath)
        }
    }

    /// The path.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An unknown status name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown status")]
pub struct UnknownStatus;

/// Where a piece of site feedback is in moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackStatus {
    /// Received, not yet looked at.
    New,
    /// Shown to the public.
    Published,
    /// Kept from the public.
    Hidden,
}

impl FeedbackStatus {
    /// `NEW`, `PUBLISHED` or `HIDDEN`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Published => "PUBLISHED",
            Self::Hidden => "HIDDEN",
        }
    }
}

impl FromStr for FeedbackStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "NEW" => Ok(Self::New),
            "PUBLISHED" => Ok(Self::Published),
            "HIDDEN" => Ok(Self::Hidden),
            _ => Err(UnknownStatus),
        }
    }
}

/// Where a review is in moderation. New and edited reviews are PENDING until staff
/// publish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    /// Written or edited, waiting for a moderator.
    Pending,
    /// Shown to the public and counted in the product's rating.
    Published,
    /// Kept from the public.
    Hidden,
}

impl ReviewStatus {
    /// `PENDING`, `PUBLISHED` or `HIDDEN`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Published => "PUBLISHED",
            Self::Hidden => "HIDDEN",
        }
    }
}

impl FromStr for ReviewStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "PENDING" => Ok(Self::Pending),
            "PUBLISHED" => Ok(Self::Published),
            "HIDDEN" => Ok(Self::Hidden),
            _ => Err(UnknownStatus),
        }
    }
}

/// What a moderator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationAction {
    /// Made it public.
    Publish,
    /// Kept it from the public, with a reason.
    Hide,
}

impl ModerationAction {
    /// `PUBLISH` or `HIDE`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "PUBLISH",
            Self::Hide => "HIDE",
        }
    }

    const fn verb(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Hide => "hide",
        }
    }
}

impl fmt::Display for ModerationAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was moderated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A piece of site feedback.
    Feedback(FeedbackId),
    /// A product review.
    Review(ReviewId),
}

/// One line of the moderation history: who did what, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationEntry {
    /// What was moderated.
    pub subject: Subject,
    /// What was done.
    pub action: ModerationAction,
    /// Why (always given when hiding).
    pub reason: Option<ModerationReason>,
    /// The moderator.
    pub moderator: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Site feedback as sent through the public form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedback {
    /// The message.
    pub message: FeedbackMessage,
    /// The sender's name, if given.
    pub name: Option<SenderName>,
    /// The sender's address, if given.
    pub email: Option<Email>,
    /// The page it was sent from.
    pub page: Option<PagePath>,
    /// A rating of the site.
    pub rating: Option<Rating>,
    /// The spam trap: a field people never see and so leave empty.
    pub trap: Option<String>,
}

/// What became of a submission. Both answer the same to the sender, so a bot learns
/// nothing from the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    /// Stored, waiting for moderation.
    Received(FeedbackId),
    /// The spam trap was filled: nothing was stored.
    Discarded,
}

/// A piece of site feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFeedback {
    /// Id.
    pub id: FeedbackId,
    /// The message.
    pub message: FeedbackMessage,
    /// The sender's name.
    pub name: Option<SenderName>,
    /// The sender's address: shown to staff only, never publicly.
    pub email: Option<Email>,
    /// The page it was sent from.
    pub page: Option<PagePath>,
    /// A rating of the site.
    pub rating: Option<Rating>,
    /// The signed-in user who sent it.
    pub user_id: Option<UserId>,
    /// Moderation status.
    pub status: FeedbackStatus,
    /// Received at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl SiteFeedback {
    /// Applies a moderation: NEW or HIDDEN can be published, NEW or PUBLISHED hidden.
    ///
    /// # Errors
    /// `InvalidTransition` otherwise.
    pub fn moderate(
        &mut self,
        action: ModerationAction,
        now: DateTime<Utc>,
    ) -> Result<(), FeedbackError> {
        let to = match (self.status, action) {
            (FeedbackStatus::New | FeedbackStatus::Hidden, ModerationAction::Publish) => {
                FeedbackStatus::Published
            }
            (FeedbackStatus::New | FeedbackStatus::Published, ModerationAction::Hide) => {
                FeedbackStatus::Hidden
            }
            (from, action) => {
                return Err(FeedbackError::InvalidTransition {
                    from: from.as_str(),
                    action: action.verb(),
                });
            }
        };
        self.status = to;
        self.updated_at = now;
        self.version += 1;
        Ok(())
    }
}

/// What a buyer writes about a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewInput {
    /// Stars.
    pub rating: Rating,
    /// Optional title.
    pub title: Option<ReviewTitle>,
    /// The text.
    pub body: ReviewBody,
}

/// A buyer's review of a product they own: one per product per buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Id.
    pub id: ReviewId,
    /// The product.
    pub product_id: ProductId,
    /// The reviewer.
    pub user_id: UserId,
    /// Stars.
    pub rating: Rating,
    /// Title.
    pub title: Option<ReviewTitle>,
    /// Text.
    pub body: ReviewBody,
    /// Moderation status.
    pub status: ReviewStatus,
    /// Written at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Last publication.
    pub published_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl Review {
    /// Applies a moderation: PENDING or HIDDEN can be published, PENDING or PUBLISHED
    /// hidden.
    ///
    /// # Errors
    /// `InvalidTransition` otherwise.
    pub fn moderate(
        &mut self,
        action: ModerationAction,
        now: DateTime<Utc>,
    ) -> Result<(), FeedbackError> {
        let to = match (self.status, action) {
            (ReviewStatus::Pending | ReviewStatus::Hidden, ModerationAction::Publish) => {
                ReviewStatus::Published
            }
            (ReviewStatus::Pending | ReviewStatus::Published, ModerationAction::Hide) => {
                ReviewStatus::Hidden
            }
            (from, action) => {
                return Err(FeedbackError::InvalidTransition {
                    from: from.as_str(),
                    action: action.verb(),
                });
            }
        };
        if to == ReviewStatus::Published {
            self.published_at = Some(now);
        }
        self.status = to;
        self.updated_at = now;
        self.version += 1;
        Ok(())
    }

    /// Replaces the content; the review goes back to PENDING.
    pub fn edit(&mut self, input: ReviewInput, now: DateTime<Utc>) {
        self.rating = input.rating;
        self.title = input.title;
        self.body = input.body;
        self.status = ReviewStatus::Pending;
        self.updated_at = now;
        self.version += 1;
    }
}

/// A published review as the public sees it: the reviewer by first name and last
/// initial, never their address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicReview {
    /// Id.
    pub id: ReviewId,
    /// The product.
    pub product_id: ProductId,
    /// Stars.
    pub rating: Rating,
    /// Title.
    pub title: Option<ReviewTitle>,
    /// Text.
    pub body: ReviewBody,
    /// "Cara B.".
    pub reviewer: String,
    /// Published at.
    pub published_at: DateTime<Utc>,
}

/// How the public sees a reviewer: the first name and the initial of the last name.
#[must_use]
pub fn reviewer_display(first_name: &str, last_name: &str) -> String {
    let first = first_name.trim();
    match last_name.trim().chars().next() {
        Some(initial) => format!("{first} {}.", initial.to_uppercase()),
        None => first.to_owned(),
    }
}

/// The published reviews of a product, summed: exact, kept in the transaction of each
/// change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RatingSummary {
    /// How many published reviews.
    pub count: u64,
    /// The sum of their stars.
    pub sum: u64,
}

impl RatingSummary {
    /// The mean of the stars rounded to two decimals, 0 with no review.
    #[must_use]
    pub fn average(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let mean = self.sum as f64 / self.count as f64;
        (mean * 100.0).round() / 100.0
    }
}

/// Which site feedback staff list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedbackFilter {
    /// Only this status.
    pub status: Option<FeedbackStatus>,
}

/// Which reviews staff list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReviewFilter {
    /// Only this status.
    pub status: Option<ReviewStatus>,
    /// Only this product.
    pub product_id: Option<ProductId>,
}

/// What a customer said, as the CRM shows it on the customer: site feedback or a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerFeedback {
    /// `SITE` or `REVIEW`.
    pub kind: FeedbackKind,
    /// The feedback's or review's id.
    pub id: uuid::Uuid,
    /// The product reviewed.
    pub product_id: Option<ProductId>,
    /// Stars.
    pub rating: Option<Rating>,
    /// A review's title.
    pub title: Option<String>,
    /// The message or review text.
    pub text: String,
    /// Moderation status.
    pub status: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

/// Site feedback or a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackKind {
    /// Site feedback.
    Site,
    /// A product review.
    Review,
}

impl FeedbackKind {
    /// `SITE` or `REVIEW`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Site => "SITE",
            Self::Review => "REVIEW",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(
            FeedbackMessage::parse("  hi\nthere ").map(|m| m.0),
            Ok("hi\nthere".to_owned())
        );
        assert_eq!(FeedbackMessage::parse("   "), Err(InvalidText::Empty));
        assert_eq!(
            FeedbackMessage::parse(&"x".repeat(5001)),
            Err(InvalidText::TooLong(5000))
        );
        assert!(FeedbackMessage::parse(&"x".repeat(5000)).is_ok());
        assert_eq!(
            SenderName::parse("a\nb"),
            Err(InvalidText::ControlCharacter)
        );
        assert!(ReviewBody::parse("").is_ok());
        assert_eq!(
            ReviewTitle::parse(&"t".repeat(121)),
            Err(InvalidText::TooLong(120))
        );
    }

    #[test]
    fn ratings_are_one_to_five() {
        for bad in [0, 6, -1, 256] {
            assert_eq!(Rating::new(bad), Err(InvalidRating), "{bad}");
        }
        assert_eq!(Rating::new(5).map(Rating::get), Ok(5));
    }

    #[test]
    fn pages_are_relative_paths() {
        assert!(PagePath::parse("/pricing?plan=pro#faq").is_ok());
        for bad in [
            "",
            "pricing",
            "//evil.example/x",
            "https://x.example/",
            "/a b",
            "/a\\b",
        ] {
            assert_eq!(PagePath::parse(bad), Err(InvalidPagePath), "{bad}");
        }
        assert!(PagePath::parse(&format!("/{}", "a".repeat(500))).is_err());
    }

    #[test]
    fn reviewers_show_as_first_name_and_initial() {
        assert_eq!(reviewer_display("Cara", "buyer"), "Cara B.");
        assert_eq!(reviewer_display("Ada", ""), "Ada");
    }

    #[test]
    fn the_average_is_rounded_to_two_decimals() {
        assert!((RatingSummary { count: 3, sum: 13 }.average() - 4.33).abs() < 1e-9);
        assert!(RatingSummary::default().average().abs() < f64::EPSILON);
    }
}
