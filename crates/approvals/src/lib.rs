#![doc = include_str!("../README.md")]

mod deadlines;
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

pub use deadlines::{
    BusinessHours, Deadline, DeadlinePolicy, DeadlineStage, DueResponse, InvalidBusinessHours,
    InvalidDeadlinePolicy,
};
pub use error::ApprovalsError;
pub use events::{
    ApprovalDeadlineApproaching, ApprovalDeadlinePassed, ResponseApproved, ResponseSent,
};
pub use ids::ResponseId;
pub use mailing::{DeadlineMailPorts, DeadlineMailSubscriber, ResponseMailSubscriber};
pub use model::{
    InconsistentResponse, InvalidResponseValue, NewResponse, Response, ResponseContent,
    ResponseEvent, ResponseParts, ResponseQuery, ResponseStatus, ResponseSubject, ReviewNotes,
    Transition, UpdateResponse,
};
pub use ports::{
    ApprovalsTx, ApprovalsUnitOfWork, EnquiryAnswers, EnquiryLookup, ResponseRepository,
    ResponseStore, StaffContact, StaffContacts,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{
    MockApprovalsUnitOfWork, MockEnquiryAnswers, MockEnquiryLookup, MockResponseRepository,
    MockResponseStore, MockStaffContacts,
};
pub use service::{ApprovalService, DeadlineSweep};
