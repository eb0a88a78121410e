//! Decimal numbers as people type them (`2`, `-0.5`, `.5`, `1e3`), read by hand. Shared: a
//! template's `number` input and a quantity's digits are checked with this one rule on both
//! sides. The standard library's float parser is exact to the last bit, but its power-of-five
//! table is 10 KB that gzip cannot shrink, and the browser bundle would carry it only to check
//! what people type.

/// The value of `text` when it is a decimal number: an optional sign, digits with at most one
/// `.` (at least one digit), and an optional exponent (`e` or `E`, an optional sign, digits).
/// No spaces, `inf` or `nan`. A number too large for a float is infinite.
///
/// Up to 15 significant digits and 22 decimal places (anything a person types) the value is the
/// float nearest to the number, as the standard library's; beyond that it is within a few units
/// in the last place.
pub fn decimal(text: &str) -> Option<f64> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (digits, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    // The first 19 significant digits, exactly; later ones only move the decimal point.
    let mut mantissa = 0u64;
    let mut significant = 0;
    let mut scale = 0i32;
    let (mut seen_digit, mut seen_point) = (false, false);
    for byte in digits.bytes() {
        match byte {
            b'0'..=b'9' => {
                seen_digit = true;
                if significant < 19 {
                    mantissa = mantissa * 10 + u64::from(byte - b'0');
                    significant += usize::from(mantissa > 0);
                    scale = scale.saturating_sub(i32::from(seen_point));
                } else if !seen_point {
                    scale = scale.saturating_add(1);
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    if let Some(exponent) = exponent {
        let (sign, magnitude) = match exponent.as_bytes().first() {
            Some(b'-') => (-1, &exponent[1..]),
            Some(b'+') => (1, &exponent[1..]),
            _ => (1, exponent),
        };
        if magnitude.is_empty() || !magnitude.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let magnitude = magnitude.bytes().fold(0i32, |n, b| {
            n.saturating_mul(10).saturating_add(i32::from(b - b'0'))
        });
        scale = scale.saturating_add(sign * magnitude);
    }
    // Up to 2^53 and 10^22 both are exact, and one multiplication or division rounds once, to
    // the nearest.
    let mantissa = mantissa as f64;
    let value = if mantissa == 0.0 {
        0.0
    } else if scale >= 0 {
        mantissa * 10f64.powi(scale)
    } else {
        mantissa / 10f64.powi(scale.saturating_neg())
    };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn reads_what_the_standard_parser_reads_except_inf_and_nan() {
        for text in [
            "0",
            "2",
            "-3",
            "+4",
            "0.5",
            ".5",
            "5.",
            "2.5",
            "1.1",
            "0.1",
            "123456789012345",
            "1e3",
            "1E3",
            "1e+3",
            "2.5e-3",
            "-0.0",
            "0e400",
            "1e400",
            "-1e400",
            "1e-400",
            "00012",
            "3.14159",
            "1024",
            "0.000001",
        ] {
            let want: f64 = text.parse().unwrap();
            assert_eq!(decimal(text), Some(want), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for text in [
            "", "-", "+", ".", "-.", "e3", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "2 gigs",
            "inf", "NaN", "infinity", "0x10", "1_000", "1e3.5", "--1", "1Gi",
        ] {
            assert_eq!(decimal(text), None, "{text:?}");
        }
    }

    #[test]
    fn long_numbers_stay_close_and_huge_ones_are_infinite() {
        let long = "3.14159265358979323846264338327950288";
        let got = decimal(long).unwrap();
        let pi = std::f64::consts::PI;
        assert!((got - pi).abs() <= 2.0 * f64::EPSILON * pi, "{got}");
        assert_eq!(
            decimal("12345678901234567890123"),
            Some(1.2345678901234568e22)
        );
        let tiny = decimal("0.00000000000000000000000000001").unwrap();
        assert!((tiny - 1e-29).abs() <= 2.0 * f64::EPSILON * 1e-29, "{tiny}");
        assert_eq!(decimal(&"4".repeat(340)), Some(f64::INFINITY));
        assert_eq!(
            decimal(&format!("1e{}", "9".repeat(20))),
            Some(f64::INFINITY)
        );
        assert_eq!(decimal(&format!("1e-{}", "9".repeat(20))), Some(0.0));
    }
}
