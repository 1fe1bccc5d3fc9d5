#![doc = include_str!("../README.md")]

mod admin;
mod delivery;
mod error;
mod event;
mod ids;
mod memory;
pub mod permissions;
mod registry;
mod retry;
mod runner;
mod subscriber;

pub use admin::DeliveryAdmin;
#[cfg(any(test, feature = "mocks"))]
pub use delivery::MockDeliveryStore;
pub use delivery::{
    BacklogEntry, DEFAULT_MAX_ATTEMPTS, Delivery, DeliveryFilter, DeliveryState, DeliveryStore,
    UnknownDeliveryState,
};
pub use error::OutboxError;
pub use event::{DecodeError, DomainEvent, EventEnvelope};
pub use ids::{DeliveryId, EventId};
pub use memory::InMemoryOutbox;
pub use registry::{DuplicateSubscriber, Route, Routes, RoutesHandle, SubscriberRegistry};
pub use retry::RetryPolicy;
pub use runner::{
    DeliveryContext, DeliveryFuture, DeliveryRunner, DeliveryRunnerConfig, PassThroughContext,
};
#[cfg(any(test, feature = "mocks"))]
pub use subscriber::MockSubscriber;
pub use subscriber::{DeliveryError, Subscriber, Subscription};
