//! Kubernetes quantities, parsed by the rule the console shares ([`app::model::quantity`]), with
//! a bad one reported as a [`ChangeError`].

use super::edits::ChangeError;

/// Parses a Kubernetes quantity into a number (cores for cpu, bytes otherwise).
pub fn parse_quantity(s: &str, what: &'static str) -> Result<f64, ChangeError> {
    app::model::quantity::parse_quantity(s, what).map_err(|b| ChangeError::BadQuantity {
        value: b.value,
        what: b.what,
        examples: b.examples,
    })
}
