//! Kubernetes quantities (`500m`, `2`, `1Gi`, `10G`) as numbers, for comparing sizes and
//! checking what people type. Shared: the server refuses a bad quantity with the same rule the
//! console checks as you type.

/// A quantity that is not one, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuantity {
    /// What was given.
    pub value: String,
    /// `cpu`, `memory` or `storage`.
    pub what: &'static str,
    /// Well-formed examples.
    pub examples: &'static str,
}

impl std::fmt::Display for BadQuantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is not a valid {} quantity (examples: {})",
            self.value, self.what, self.examples
        )
    }
}

/// Parses a Kubernetes quantity into a number (cores for cpu, bytes otherwise).
pub fn parse_quantity(s: &str, what: &'static str) -> Result<f64, BadQuantity> {
    let examples = if what == "cpu" {
        "500m, 1, 2.5"
    } else {
        "512Mi, 1Gi, 10G"
    };
    let bad = || BadQuantity {
        value: s.to_string(),
        what,
        examples,
    };
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    // Digits and dots only (no sign or exponent), so `decimal` refuses an empty, a lone or a
    // second `.`.
    let n = super::number::decimal(num).ok_or_else(bad)?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        _ => return Err(bad()),
    };
    if what != "cpu" && suffix == "m" {
        return Err(bad());
    }
    // A number too long for a float is infinite, not a size (found by fuzzing).
    let value = n * factor;
    if !value.is_finite() {
        return Err(bad());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("500m", "cpu").unwrap(), 0.5);
        assert_eq!(parse_quantity("2", "cpu").unwrap(), 2.0);
        assert_eq!(parse_quantity("1Gi", "memory").unwrap(), 1073741824.0);
        assert_eq!(parse_quantity("10G", "storage").unwrap(), 1e10);
        for bad in ["2 gigs", "", "Gi", "1.2.3Gi", "-1Gi", "1gb"] {
            assert!(parse_quantity(bad, "memory").is_err(), "{bad}");
        }
        let huge = format!("{}Gi", "4".repeat(340));
        assert!(
            parse_quantity(&huge, "storage").is_err(),
            "infinite is not a size"
        );
        assert!(
            parse_quantity("100m", "memory").is_err(),
            "milli-bytes are not a memory size"
        );
    }
}
