//! Components shared by several pages.

pub mod confirm;
pub mod errors;
pub mod schema;
pub mod state;
