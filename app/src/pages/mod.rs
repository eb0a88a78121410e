//! One module per route.

pub mod history;
pub mod instance;
pub mod instances;
pub mod not_found;
pub mod templates;
