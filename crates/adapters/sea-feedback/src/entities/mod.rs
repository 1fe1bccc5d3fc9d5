//! SeaORM entities of the feedback tables (see the migration for their indexes).

pub mod feedback_moderation;
pub mod product_rating;
pub mod product_review;
pub mod site_feedback;
