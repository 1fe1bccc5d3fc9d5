//! SeaORM entities of the outbox tables.

pub mod delivery;
pub mod event;
