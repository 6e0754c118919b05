//! One module per page.

pub mod services;
