//! Reusable pieces of the UI, one per file.

pub mod advice;
pub mod card;
pub mod change_box;
pub mod cluster_banner;
pub mod deploy;
pub mod detail;
pub mod dialog;
pub mod diff;
pub mod edges;
pub mod error_view;
pub mod header;
pub mod health_badge;
pub mod import;
pub mod logs;
pub mod review;
pub mod rollback;
pub mod unfinished;
pub mod yaml;
