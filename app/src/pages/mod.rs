//! One module per page.

pub mod events;
pub mod lan;
pub mod login;
pub mod register;
pub mod service;
pub mod services;
pub mod stats;
pub mod url;
