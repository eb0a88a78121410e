//! Reusable pieces of the UI, one per file.

pub mod header;
pub mod health_badge;
