#![doc = include_str!("../README.md")]

mod error;
mod mailing;
mod model;
mod ports;
mod service;

pub use error::ApprovalsError;
pub use mailing::ResponseMailHandler;
pub use model::{
    InconsistentResponse, InvalidResponseValue, NewResponse, Response, ResponseContent,
    ResponseEvent, ResponseParts, ResponseQuery, ResponseStatus, ResponseSubject, ReviewNotes,
    Transition, UpdateResponse,
};
pub use ports::{EnquiryLookup, ResponseRepository};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockEnquiryLookup, MockResponseRepository};
pub use service::ApprovalService;
