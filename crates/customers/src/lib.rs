#![doc = include_str!("../README.md")]

mod error;
mod model;
mod ports;
mod service;

pub use error::CustomersError;
pub use model::{
    CompanyName, Customer, CustomerQuery, CustomerSort, CustomerStatus, InvalidCustomerValue,
    NewCustomer, Phone, SearchTerm, SortDirection, SortField, StaffMember, Tag, Tags,
    UpdateCustomer,
};
pub use ports::{CustomerRepository, StaffDirectory};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockCustomerRepository, MockStaffDirectory};
pub use service::CustomerService;
