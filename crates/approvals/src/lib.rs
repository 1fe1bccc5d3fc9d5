#![doc = include_str!("../README.md")]

mod error;
mod events;
mod ids;
mod mailing;
mod model;
pub mod permissions;
mod ports;
mod service;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;

pub use error::ApprovalsError;
pub use events::{ResponseApproved, ResponseSent};
pub use ids::ResponseId;
pub use mailing::ResponseMailSubscriber;
pub use model::{
    InconsistentResponse, InvalidResponseValue, NewResponse, Response, ResponseContent,
    ResponseEvent, ResponseParts, ResponseQuery, ResponseStatus, ResponseSubject, ReviewNotes,
    Transition, UpdateResponse,
};
pub use ports::{
    ApprovalsTx, ApprovalsUnitOfWork, EnquiryAnswers, EnquiryLookup, ResponseRepository,
    ResponseStore,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockApprovalsUnitOfWork, MockEnquiryAnswers, MockEnquiryLookup, MockResponseRepository,
    MockResponseStore,
};
pub use service::ApprovalService;
