//! One module per route.

pub mod instance;
pub mod instances;
pub mod not_found;
