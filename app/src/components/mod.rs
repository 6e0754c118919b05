//! Components shared by several pages.

pub mod access;
pub mod call_panel;
pub mod confirm;
pub mod errors;
pub mod health;
pub mod json_text;
pub mod not_found;
pub mod schema;
pub mod state;
pub mod theme;
