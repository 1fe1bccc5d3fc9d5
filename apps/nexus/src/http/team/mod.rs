//! Team members: the public list and photos, and the staff routes under `/admin/team`.

pub mod dto;
pub mod handlers;

pub use handlers::configure;
