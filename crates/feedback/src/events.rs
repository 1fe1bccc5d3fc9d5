//! What the feedback context records. Review events carry the ids a subscriber needs:
//! the `invalidate_catalog_ratings` subscriber only moves the catalog cache on, since
//! product answers show the rating.

use nexus_catalog::ProductId;
use nexus_outbox::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::{FeedbackId, ReviewId};

macro_rules! review_event {
    ($(#[$doc:meta])* $name:ident, $event:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The review.
            pub review_id: ReviewId,
            /// Its product.
            pub product_id: ProductId,
        }

        impl DomainEvent for $name {
            const NAME: &'static str = $event;
            const VERSION: u32 = 1;
        }
    };
}

review_event!(
    /// A review was written or edited: it waits for a moderator (an edit of a published
    /// review takes it out of the product's rating).
    ReviewSubmitted, "feedback.review_submitted"
);
review_event!(
    /// A moderator published a review: it counts in the product's rating.
    ReviewPublished, "feedback.review_published"
);
review_event!(
    /// A moderator hid a review.
    ReviewHidden, "feedback.review_hidden"
);
review_event!(
    /// The reviewer deleted their review.
    ReviewDeleted, "feedback.review_deleted"
);

/// A moderator published or hid a piece of site feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackModerated {
    /// The feedback.
    pub feedback_id: FeedbackId,
}

impl DomainEvent for FeedbackModerated {
    const NAME: &'static str = "feedback.site_feedback_moderated";
    const VERSION: u32 = 1;
}
