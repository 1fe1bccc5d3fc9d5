//! Redirect rules: the staff routes under `/admin/redirects`, the in-memory table of the
//! rules in force, and the fallback that answers unmatched site paths with them.

pub mod dto;
pub mod handlers;
pub mod table;

pub use handlers::{RESERVED_PREFIXES, configure, fallback};
pub use table::RedirectTable;
