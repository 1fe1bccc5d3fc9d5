//! SeaORM mappings of the content tables, as the migrations create them; storage shapes
//! only, never part of the public repository API.

pub mod audit;
pub mod page;
pub mod page_version;
pub mod post;
pub mod post_slug;
pub mod post_tag;
pub mod team_member;
