//! Amounts in people's words: Kubernetes quantities (`1Gi`, `500m`), human units ("2 cores",
//! "half a core", "500 millicores", "1.5 gigs", "512 MB") and number words. Exact: "512 MB" is
//! `512M` (decimal), "512 MiB" is `512Mi`; a decimal amount is written in the next smaller unit of
//! the same family ("1.5Gi" is `1536Mi`, "1.5 gigs" is `1500M`).

/// What an amount measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// CPU, in cores.
    Cores,
    /// Memory or storage, in bytes.
    Bytes,
}

/// An amount: its value (cores or bytes) and its canonical Kubernetes quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    pub unit: Unit,
    pub value: f64,
    pub text: String,
}

/// Bytes per unit word, and whether it is binary (Ki, Mi, Gi).
fn byte_unit(word: &str) -> Option<(f64, bool)> {
    const K: f64 = 1024.0;
    Some(match word {
        "ki" | "kib" | "kibibyte" | "kibibytes" => (K, true),
        "mi" | "mib" | "mebibyte" | "mebibytes" => (K * K, true),
        "gi" | "gib" | "gibibyte" | "gibibytes" => (K * K * K, true),
        "ti" | "tib" | "tebibyte" | "tebibytes" => (K * K * K * K, true),
        "k" | "kb" | "kilobyte" | "kilobytes" => (1e3, false),
        "mb" | "meg" | "megs" | "megabyte" | "megabytes" => (1e6, false),
        "g" | "gb" | "gig" | "gigs" | "gigabyte" | "gigabytes" => (1e9, false),
        "t" | "tb" | "terabyte" | "terabytes" => (1e12, false),
        _ => return None,
    })
}

/// Cores per unit word.
fn cpu_unit(word: &str) -> Option<f64> {
    Some(match word {
        "core" | "cores" | "cpu" | "cpus" | "vcpu" | "vcpus" => 1.0,
        "m" | "millicore" | "millicores" | "millicpu" | "millicpus" | "mcpu" => 1e-3,
        _ => return None,
    })
}

/// A number word or numeral (`3`, `1.5`, "three", "a").
pub fn number(word: &str) -> Option<f64> {
    if let Ok(n) = word.parse::<f64>()
        && n.is_finite()
        && n >= 0.0
        && !word.starts_with('+')
    {
        return Some(n);
    }
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    WORDS.iter().position(|w| *w == word).map(|n| n as f64)
}

/// Splits `1.5gi` into (1.5, "gi").
fn split_number(word: &str) -> Option<(f64, &str)> {
    let end = word
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(word.len());
    let (num, rest) = word.split_at(end);
    if num.is_empty() || num.matches('.').count() > 1 || num.ends_with('.') {
        return None;
    }
    Some((num.parse().ok()?, rest))
}

/// The amount that starts at `words[0]` (lowercase), and how many words it took.
pub fn read(words: &[&str]) -> Option<(Amount, usize)> {
    let first = *words.first()?;
    let next = words.get(1).copied().unwrap_or("");
    // "half a core", "a quarter of a core", "a core", "a gig".
    let (fraction, skip) = match first {
        "half" => (Some(0.5), 1),
        "quarter" => (Some(0.25), 1),
        "a" | "an" if next == "half" => (Some(0.5), 2),
        "a" | "an" if next == "quarter" => (Some(0.25), 2),
        _ => (None, 0),
    };
    if let Some(f) = fraction {
        let mut i = skip;
        while matches!(words.get(i).copied(), Some("a" | "an" | "of")) {
            i += 1;
        }
        let unit = words.get(i)?;
        return with_unit(f, unit).map(|a| (a, i + 1));
    }
    if matches!(first, "a" | "an") {
        return with_unit(1.0, next).map(|a| (a, 2));
    }
    if let Some((n, suffix)) = split_number(first)
        && !suffix.is_empty()
    {
        return with_unit(n, suffix).map(|a| (a, 1));
    }
    let n = number(first)?;
    with_unit(n, next).map(|a| (a, 2))
}

fn with_unit(n: f64, unit: &str) -> Option<Amount> {
    if let Some(per) = cpu_unit(unit) {
        return cores(n * per);
    }
    let (per, binary) = byte_unit(unit)?;
    bytes(n * per, binary)
}

/// `value` cores as a quantity: whole cores, else millicores. None below a millicore's precision.
pub fn cores(value: f64) -> Option<Amount> {
    let milli = (value * 1000.0).round();
    if !value.is_finite() || (milli - value * 1000.0).abs() > 1e-6 || milli < 0.0 {
        return None;
    }
    let text = if milli % 1000.0 == 0.0 {
        format!("{}", (milli / 1000.0) as u64)
    } else {
        format!("{}m", milli as u64)
    };
    Some(Amount {
        unit: Unit::Cores,
        value: milli / 1000.0,
        text,
    })
}

/// `value` bytes as a quantity in the largest unit of its family that holds it exactly (binary
/// first when `binary`), else in the other family, else in bytes. None for a fraction of a byte.
pub fn bytes(value: f64, binary: bool) -> Option<Amount> {
    if !value.is_finite() || value < 0.0 || value.fract() != 0.0 {
        return None;
    }
    const BIN: [(&str, f64); 4] = [
        ("Ti", 1099511627776.0),
        ("Gi", 1073741824.0),
        ("Mi", 1048576.0),
        ("Ki", 1024.0),
    ];
    const DEC: [(&str, f64); 4] = [("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)];
    let (first, second) = if binary { (BIN, DEC) } else { (DEC, BIN) };
    let text = first
        .iter()
        .chain(second.iter())
        .find(|(_, per)| value >= *per && (value / per).fract() == 0.0)
        .map(|(suffix, per)| format!("{}{suffix}", (value / per) as u64))
        .unwrap_or_else(|| format!("{}", value as u64));
    Some(Amount {
        unit: Unit::Bytes,
        value,
        text,
    })
}

/// Reads a Kubernetes quantity as recorded in a manifest (`512Mi`, `500m`, `2`).
pub fn recorded(text: &str, unit: Unit) -> Option<f64> {
    let what = if unit == Unit::Cores { "cpu" } else { "memory" };
    app::model::quantity::parse_quantity(text, what).ok()
}

/// Whether a recorded quantity is in a binary unit (so a computed one follows it).
pub fn is_binary(text: &str) -> bool {
    text.ends_with('i')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(words: &str) -> String {
        let w: Vec<&str> = words.split(' ').collect();
        let (a, used) = read(&w).unwrap_or_else(|| panic!("{words}"));
        assert_eq!(used, w.len(), "{words}");
        a.text
    }

    #[test]
    fn human_units_are_exact() {
        for (said, quantity) in [
            ("2 cores", "2"),
            ("half a core", "500m"),
            ("a quarter of a core", "250m"),
            ("500 millicores", "500m"),
            ("500m", "500m"),
            ("1.5 cores", "1500m"),
            ("a core", "1"),
            ("two cpus", "2"),
            ("1.5 gigs", "1500M"),
            ("512 mb", "512M"),
            ("512mb", "512M"),
            ("512 mib", "512Mi"),
            ("1gi", "1Gi"),
            ("1.5gi", "1536Mi"),
            ("0.5gi", "512Mi"),
            ("30gi", "30Gi"),
            ("2 gb", "2G"),
            ("1024mi", "1Gi"),
            ("1000mb", "1G"),
            ("a gig", "1G"),
        ] {
            assert_eq!(text(said), quantity, "{said}");
        }
    }

    #[test]
    fn not_amounts() {
        for said in [
            "3",
            "3 replicas",
            "gigs",
            "1.2.3 gi",
            "0.0001 cores",
            "1.5 bytes",
        ] {
            let w: Vec<&str> = said.split(' ').collect();
            assert_eq!(read(&w), None, "{said}");
        }
    }
}
