//! Components shared by several pages.

pub mod access;
pub mod bulk_evict;
pub mod call_panel;
pub mod confirm;
pub mod copy_text;
pub mod endpoint_list;
pub mod errors;
pub mod event_table;
pub mod health;
pub mod json_text;
pub mod node_table;
pub mod not_found;
pub mod schema;
pub mod service_extras;
pub mod service_summary;
pub mod state;
pub mod theme;
