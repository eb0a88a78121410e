//! Typed substitution: what a caller typed enters a resource as a YAML value, never as YAML text.
//!
//! The template's own text (its defaults, its inputs' defaults, the platform values) is trusted:
//! an expression that reads none of the inputs the caller supplied is pasted into the line as
//! Sealos pastes it, so every template renders as it does on Sealos, including defaults written
//! as YAML (`default: '"[bot] "'`). An expression that reads a supplied input (by name, or
//! `inputs` as a whole) is typed:
//!
//! A result made only of characters that mean nothing to YAML (letters, digits, `.`, `-`, `_`,
//! `/`, `+`, `=`, `@`, inner spaces) is written into the line as it is, so `replicas: ${{ n }}`
//! still becomes a number and every template renders as Sealos renders it. Any other result (one
//! holding a newline, `:`, `#`, a quote, a bracket, ...) is written as a marker that YAML reads as
//! plain text, and the marker is replaced by the result after parsing, inside the string that
//! holds it. So `"x\n  volumeMode: Block"` stays one string and can never add a key.

use std::{collections::BTreeSet, sync::LazyLock};

use regex::Regex;
use serde_json::{Map, Value};

/// `inputs`, and the name it is indexed with when that is written out (`inputs.x`,
/// `inputs['x']`); no name means the expression reads `inputs` as a whole.
static INPUT_READ: LazyLock<Regex> = LazyLock::new(|| {
    super::super::pattern(
        r#"(?-u:\b)inputs(?-u:\b)\s*(?:\.\s*([A-Za-z_$][A-Za-z0-9_$-]*)|\[\s*['"]([^'"]+)['"]\s*\])?"#,
    )
});

/// Whether `expr` may read one of the `supplied` inputs: it names one, or reads `inputs` in a way
/// that is not a written-out name.
pub fn reads_any(expr: &str, supplied: &BTreeSet<String>) -> bool {
    !supplied.is_empty()
        && INPUT_READ
            .captures_iter(expr)
            .any(|c| match c.get(1).or(c.get(2)) {
                Some(name) => supplied.contains(name.as_str()),
                None => true,
            })
}

/// Brackets a marker's number: private-use characters, which YAML keeps as they are and no
/// template contains.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// The results held back from the text of one render, by marker number.
#[derive(Debug, Default)]
pub struct Substitutions {
    values: Vec<String>,
}

impl Substitutions {
    /// The text to put in the line for `value`: the value itself when YAML reads it back
    /// unchanged in any position, otherwise a marker.
    pub fn text_for(&mut self, value: String) -> String {
        if is_inert(&value) {
            return value;
        }
        self.values.push(value);
        format!("{OPEN}{}{CLOSE}", self.values.len() - 1)
    }

    /// Replaces every marker in the strings and keys of `value` by the result it stands for.
    pub fn restore(&self, value: &mut Value) {
        if self.values.is_empty() {
            return;
        }
        match value {
            Value::String(s) if s.contains(OPEN) => *s = self.restore_text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.restore(v)),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains(OPEN)) {
                    let old = std::mem::take(map);
                    *map = old
                        .into_iter()
                        .map(|(k, v)| (self.restore_text(&k), v))
                        .collect::<Map<_, _>>();
                }
                map.values_mut().for_each(|v| self.restore(v));
            }
            _ => {}
        }
    }

    /// `text` with its markers replaced (also used on parse errors, which may quote a line).
    pub fn restore_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(OPEN) {
            out.push_str(&rest[..start]);
            let after = &rest[start + OPEN.len_utf8()..];
            let value = after.find(CLOSE).and_then(|end| {
                let index: usize = after[..end].parse().ok()?;
                Some((self.values.get(index)?, end))
            });
            match value {
                Some((value, end)) => {
                    out.push_str(value);
                    rest = &after[end + CLOSE.len_utf8()..];
                }
                None => {
                    out.push(OPEN);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Whether `value`, written into any YAML position (plain, quoted or block scalar, a key, a flow
/// list), reads back as exactly itself: no indicator, quote, escape, comment or line break.
fn is_inert(value: &str) -> bool {
    let inner = |c: char| c.is_ascii_alphanumeric() || "._/+=@-".contains(c);
    let Some(first) = value.chars().next() else {
        return true;
    };
    let starts_well = (first.is_ascii_alphanumeric() || "._/+=".contains(first))
        || (first == '-' && value[1..].starts_with(|c: char| c.is_ascii_alphanumeric()));
    starts_well
        && !value.ends_with(' ')
        && !value.contains("  ")
        && value.chars().all(|c| inner(c) || c == ' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_expression_is_typed_when_it_may_read_a_supplied_input() {
        let supplied: BTreeSet<String> = ["storage_class".to_string(), "a-b".to_string()].into();
        assert!(reads_any("inputs.storage_class", &supplied));
        assert!(reads_any("inputs['storage_class'] + 'x'", &supplied));
        assert!(reads_any("inputs.a-b", &supplied));
        assert!(reads_any("JSON.stringify(inputs)", &supplied));
        assert!(reads_any("inputs[k]", &supplied));
        assert!(!reads_any("inputs.replicas", &supplied));
        assert!(!reads_any("defaults.app_name", &supplied));
        assert!(!reads_any("inputs.storage_class", &BTreeSet::new()));
    }

    #[test]
    fn plain_values_are_written_as_they_are() {
        let mut subs = Substitutions::default();
        for v in [
            "",
            "3",
            "1Gi",
            "true",
            "-1",
            "posthog-web",
            "a.b/c+d=e",
            "two words",
        ] {
            assert_eq!(subs.text_for(v.to_string()), v);
        }
        assert!(subs.values.is_empty());
    }

    #[test]
    fn anything_yaml_could_read_as_structure_is_held_back() {
        let mut subs = Substitutions::default();
        for v in [
            "x\n  volumeMode: Block",
            "a: b",
            "a #b",
            "\"quoted\"",
            "'q'",
            "[1]",
            "{a: 1}",
            "- item",
            "*alias",
            "&anchor",
            "!tag",
            "|",
            "~",
            "trailing ",
            "back\\slash",
            "a, b",
        ] {
            let text = subs.text_for(v.to_string());
            assert!(text.starts_with(OPEN), "{v:?} must be held back");
            assert_eq!(subs.restore_text(&text), v);
        }
    }

    #[test]
    fn markers_are_restored_in_strings_keys_and_lists() {
        let mut subs = Substitutions::default();
        let a = subs.text_for("x\n  volumeMode: Block".into());
        let b = subs.text_for("k: v".into());
        let mut doc = json!({
            "spec": { "storageClassName": a, "list": [format!("pre-{a}-post")] },
            b.clone(): "value",
        });
        subs.restore(&mut doc);
        assert_eq!(
            doc,
            json!({
                "spec": {
                    "storageClassName": "x\n  volumeMode: Block",
                    "list": ["pre-x\n  volumeMode: Block-post"],
                },
                "k: v": "value",
            })
        );
    }
}
