#![doc = include_str!("../README.md")]

mod caching;
mod error;
pub mod events;
mod ids;
mod model;
pub mod permissions;
mod ports;
mod privacy;
mod service;
#[cfg(test)]
mod service_tests;

pub use caching::InvalidateCatalogRatings;
pub use error::FeedbackError;
pub use ids::{FeedbackId, ReviewId};
pub use model::{
    CustomerFeedback, FeedbackFilter, FeedbackKind, FeedbackMessage, FeedbackStatus,
    InvalidPagePath, InvalidRating, InvalidText, ModerationAction, ModerationEntry,
    ModerationReason, NewFeedback, PagePath, PublicReview, Rating, RatingSummary, Review,
    ReviewBody, ReviewFilter, ReviewInput, ReviewStatus, ReviewTitle, SenderName, SiteFeedback,
    Subject, Submission, UnknownStatus, reviewer_display,
};
pub use ports::{
    CustomerDirectory, FeedbackReader, FeedbackStore, FeedbackTx, FeedbackUnitOfWork,
    OwnershipCheck,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockCustomerDirectory, MockFeedbackReader, MockFeedbackStore, MockFeedbackUnitOfWork,
    MockOwnershipCheck,
};
pub use privacy::{AnonymiseErasedFeedback, EXPORT_LIMIT};
pub use service::{FeedbackService, ReviewWrite, SPAM_METRIC};
