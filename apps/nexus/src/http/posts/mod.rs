//! The blog: the public list, posts and covers, and the staff routes under `/admin/posts`.

pub mod dto;
pub mod handlers;

pub use handlers::configure;
