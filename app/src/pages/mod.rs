//! One module per route.

pub mod instances;
pub mod not_found;
