#![doc = include_str!("../README.md")]

mod enquiry;
mod enquiry_service;
mod error;
mod ids;
mod linking;
mod model;
mod notes;
pub mod permissions;
mod ports;
mod privacy;
mod service;
mod timeline;

pub use enquiry::{
    EnquirerName, Enquiry, EnquiryMessage, EnquiryQuery, EnquiryStatus, EnquirySubject, NewEnquiry,
    UnknownEnquiryStatus,
};
pub use enquiry_service::EnquiryService;
pub use error::CustomersError;
pub use ids::{CustomerId, EnquiryId, NoteId};
pub use linking::LinkVerifiedAccount;
pub use model::{
    CompanyName, Customer, CustomerQuery, CustomerSort, CustomerStatus, InvalidCustomerValue,
    NewCustomer, Phone, SearchTerm, SortDirection, SortField, StaffMember, Tag, Tags,
    UpdateCustomer,
};
#[cfg(any(test, feature = "mocks"))]
pub use notes::MockNoteRepository;
pub use notes::{Note, NoteBody, NoteRepository, NoteService};
pub use ports::{CustomerRepository, EnquiryRepository, StaffDirectory};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockCustomerRepository, MockEnquiryRepository, MockStaffDirectory};
pub use privacy::{EXPORT_LIMIT, UnlinkErasedCustomer};
pub use service::CustomerService;
#[cfg(any(test, feature = "mocks"))]
pub use timeline::MockTimelineReader;
pub use timeline::{
    InvalidCursor, TimelineCursor, TimelineEntry, TimelineKind, TimelinePage, TimelineQuery,
    TimelineReader, TimelineRef, TimelineService, UnknownTimelineKind,
};
