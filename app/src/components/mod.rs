//! Components shared by several pages.

pub mod bulk_evict;
pub mod call_panel;
pub mod confirm;
pub mod errors;
pub mod event_table;
pub mod health;
pub mod json_text;
pub mod not_found;
pub mod schema;
pub mod service_extras;
pub mod state;
pub mod theme;
