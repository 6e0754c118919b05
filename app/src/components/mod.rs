//! Components shared by several pages.

pub mod schema;
pub mod state;
