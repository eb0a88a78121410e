//! The deploy engine: instances, their revisions, applying manifests, and change sets.

pub mod apply;
pub mod changes;
pub mod history;
pub mod instances;
pub mod manifest;
pub mod seal;
