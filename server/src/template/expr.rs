//! `${{ }}` expressions: JavaScript, evaluated by an embedded engine (boa) in a sandbox.
//!
//! The sandbox has no I/O at all (boa ships none unless it is added), a loop-iteration and
//! recursion budget so an expression cannot run away, and bounded string builders so it cannot
//! allocate without limit. Two functions are added, as the Sealos renderer has them:
//! `random(n)` (n lowercase letters a–z; 21 by default) and `base64(s)`.
//!
//! `random` draws from a per-render generator: from the operating system's entropy normally, or
//! from a fixed seed in tests, so the same seed renders the same text.

use std::cell::RefCell;

use base64::Engine as _;
use boa_engine::{
    Context, JsArgs, JsNativeError, JsResult, JsValue, NativeFunction, Source, js_string,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// Longest string an expression may produce or build (1 MiB).
pub const MAX_STRING: usize = 1 << 20;
/// Loop iterations one expression may run.
pub const LOOP_LIMIT: u64 = 100_000;
/// Call depth one expression may reach.
pub const RECURSION_LIMIT: usize = 256;
/// Longest `random(n)` allowed.
pub const MAX_RANDOM: usize = 4096;

thread_local! {
    /// The generator `random()` draws from during the render running on this thread.
    static RNG: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Caps applied before any expression runs: bounded versions of the string builders that could
/// otherwise allocate without limit.
const PRELUDE: &str = r#"
(function () {
  var MAX = 1048576;
  var repeat = String.prototype.repeat, padStart = String.prototype.padStart, padEnd = String.prototype.padEnd;
  String.prototype.repeat = function (n) {
    if (String(this).length * Math.max(0, Number(n) || 0) > MAX) throw new RangeError('string too long');
    return repeat.call(this, n);
  };
  String.prototype.padStart = function (n, s) {
    if (Number(n) > MAX) throw new RangeError('string too long');
    return padStart.call(this, n, s);
  };
  String.prototype.padEnd = function (n, s) {
    if (Number(n) > MAX) throw new RangeError('string too long');
    return padEnd.call(this, n, s);
  };
})();
"#;

/// A JavaScript context holding the values expressions can read.
pub struct Evaluator {
    context: Context,
}

/// What an expression evaluated to.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluated {
    /// Any value other than `undefined`, converted to a string the JavaScript way.
    Value(String),
    /// `undefined`: never substituted into a template.
    Undefined,
}

impl Evaluator {
    /// A fresh sandbox with `random` and `base64` defined and no variables yet.
    pub fn new() -> Evaluator {
        let mut context = Context::default();
        let limits = context.runtime_limits_mut();
        limits.set_loop_iteration_limit(LOOP_LIMIT);
        limits.set_recursion_limit(RECURSION_LIMIT);
        context
            .register_global_builtin_callable(
                js_string!("random"),
                1,
                NativeFunction::from_fn_ptr(js_random),
            )
            .expect("registering random on a fresh context cannot fail");
        context
            .register_global_builtin_callable(
                js_string!("base64"),
                1,
                NativeFunction::from_fn_ptr(js_base64),
            )
            .expect("registering base64 on a fresh context cannot fail");
        context
            .eval(Source::from_bytes(PRELUDE))
            .expect("the prelude is valid JavaScript");
        Evaluator { context }
    }

    /// Defines (or replaces) a global variable holding a JSON value.
    /// `name` must be a JavaScript identifier; others are rejected.
    pub fn set_global(&mut self, name: &str, value: &Value) -> Result<(), String> {
        if !is_identifier(name) {
            return Err(format!("`{name}` is not a valid variable name"));
        }
        let src = format!(
            "var {name} = {};",
            serde_json::to_string(value).map_err(|e| e.to_string())?
        );
        self.context
            .eval(Source::from_bytes(&src))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Sets the `inputs` or `defaults` map from name → string pairs.
    pub fn set_map<'a>(
        &mut self,
        name: &str,
        entries: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<(), String> {
        let map: Map<String, Value> = entries
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        self.set_global(name, &Value::Object(map))
    }

    /// Evaluates one expression (the text between `${{` and `}}`).
    pub fn eval(&mut self, expr: &str) -> Result<Evaluated, String> {
        let source = rewrite_dashed_keys(expr);
        let value = self
            .context
            .eval(Source::from_bytes(source.as_ref()))
            .map_err(|e| e.to_string())?;
        if value.is_undefined() {
            return Ok(Evaluated::Undefined);
        }
        let text = value
            .to_string(&mut self.context)
            .map_err(|e| e.to_string())?
            .to_std_string_escaped();
        if text.len() > MAX_STRING {
            return Err(format!("result is longer than {MAX_STRING} bytes"));
        }
        Ok(Evaluated::Value(text))
    }

    /// Evaluates a condition with JavaScript truthiness.
    pub fn truthy(&mut self, expr: &str) -> Result<bool, String> {
        let source = rewrite_dashed_keys(expr);
        let value = self
            .context
            .eval(Source::from_bytes(source.as_ref()))
            .map_err(|e| e.to_string())?;
        Ok(value.to_boolean())
    }
}

impl Default for Evaluator {
    fn default() -> Self {
        Evaluator::new()
    }
}

/// Runs `f` with `random()` drawing from a generator seeded by `seed`, or by the operating
/// system's entropy when `seed` is `None`.
pub fn with_random_source<T>(seed: Option<u64>, f: impl FnOnce() -> T) -> T {
    let rng = match seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    };
    let previous = RNG.with(|cell| cell.replace(Some(rng)));
    let out = f();
    RNG.with(|cell| *cell.borrow_mut() = previous);
    out
}

/// `n` random lowercase letters, from the current render's generator.
pub fn random_letters(n: usize) -> String {
    RNG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rng = slot.get_or_insert_with(StdRng::from_os_rng);
        (0..n)
            .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
            .collect()
    })
}

fn js_random(_this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let arg = args.get_or_undefined(0);
    let n = if arg.is_undefined() {
        21.0
    } else {
        arg.to_number(ctx)?
    };
    if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n as usize <= MAX_RANDOM) {
        return Err(JsNativeError::range()
            .with_message(format!(
                "random(n) needs a whole number from 0 to {MAX_RANDOM}"
            ))
            .into());
    }
    Ok(JsValue::from(js_string!(
        random_letters(n as usize).as_str()
    )))
}

fn js_base64(_this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let text = args
        .get_or_undefined(0)
        .to_string(ctx)?
        .to_std_string_escaped();
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    Ok(JsValue::from(js_string!(encoded.as_str())))
}

/// `inputs.foo-bar` → `inputs['foo-bar']`, as the Sealos renderer rewrites keys with dashes.
fn rewrite_dashed_keys(expr: &str) -> std::borrow::Cow<'_, str> {
    static DASHED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(inputs|defaults)\.([A-Za-z_$][\w$]*(?:-[\w$]+)+)").expect("valid regex")
    });
    DASHED.replace_all(expr, "$1['$2']")
}

/// Whether an evaluation error is the sandbox stopping a runaway expression (its loop, recursion
/// or string budget) rather than the expression's own failure. Budget errors are never rendered
/// leniently: a template that hits them is refused.
pub fn is_budget_error(message: &str) -> bool {
    message.starts_with("RuntimeLimit")
        || message.contains("string too long")
        || message.starts_with("result is longer than")
}

/// The first line of an engine error (boa appends the JavaScript stack on further lines), so a
/// warning stays one line.
pub fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim_end()
}

/// Whether `name` can be declared with `var`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(e: &mut Evaluator, expr: &str) -> Evaluated {
        e.eval(expr).unwrap_or_else(|err| panic!("{expr}: {err}"))
    }

    fn val(s: &str) -> Evaluated {
        Evaluated::Value(s.to_string())
    }

    #[test]
    fn reads_inputs_defaults_and_platform_values() {
        let mut e = Evaluator::new();
        e.set_global("inputs", &json!({"name": "x", "db-size": "2"}))
            .unwrap();
        e.set_global("defaults", &json!({"app_name": "posthog-abc"}))
            .unwrap();
        e.set_global("SEALOS_NAMESPACE", &json!("ns-1")).unwrap();
        assert_eq!(eval(&mut e, "inputs.name"), val("x"));
        assert_eq!(
            eval(&mut e, "defaults.app_name + '-pg'"),
            val("posthog-abc-pg")
        );
        assert_eq!(eval(&mut e, "SEALOS_NAMESPACE"), val("ns-1"));
        assert_eq!(
            eval(&mut e, "inputs.db-size"),
            val("2"),
            "dashed keys are rewritten"
        );
    }

    #[test]
    fn operators_ternary_and_string_methods_work() {
        let mut e = Evaluator::new();
        e.set_global("inputs", &json!({"flag": "true", "empty": ""}))
            .unwrap();
        assert_eq!(eval(&mut e, "inputs.flag === 'true'"), val("true"));
        assert_eq!(eval(&mut e, "inputs.flag !== 'true' ? 'a' : 'b'"), val("b"));
        assert_eq!(eval(&mut e, "inputs.empty || 'fallback'"), val("fallback"));
        assert_eq!(
            eval(&mut e, "'ABC-def'.toLowerCase().replace(/[^a-c]/g, 'z')"),
            val("abczzzz")
        );
        assert_eq!(eval(&mut e, "1 + 2"), val("3"));
        assert_eq!(eval(&mut e, "null"), val("null"));
    }

    #[test]
    fn random_is_lowercase_letters_of_the_asked_length_and_seedable() {
        let a = with_random_source(Some(7), || {
            let mut e = Evaluator::new();
            (eval(&mut e, "random(8)"), eval(&mut e, "random()"))
        });
        let b = with_random_source(Some(7), || {
            let mut e = Evaluator::new();
            (eval(&mut e, "random(8)"), eval(&mut e, "random()"))
        });
        assert_eq!(a, b, "same seed, same letters");
        let Evaluated::Value(eight) = &a.0 else {
            panic!()
        };
        let Evaluated::Value(default) = &a.1 else {
            panic!()
        };
        assert_eq!(eight.len(), 8);
        assert_eq!(default.len(), 21);
        assert!(
            eight
                .chars()
                .chain(default.chars())
                .all(|c| c.is_ascii_lowercase())
        );
        let c = with_random_source(Some(8), || eval(&mut Evaluator::new(), "random(8)"));
        assert_ne!(a.0, c);
    }

    #[test]
    fn base64_uses_the_standard_alphabet_with_padding() {
        let mut e = Evaluator::new();
        assert_eq!(eval(&mut e, "base64('hello')"), val("aGVsbG8="));
        assert_eq!(eval(&mut e, "base64('')"), val(""));
    }

    #[test]
    fn undefined_and_errors_are_reported_not_rendered() {
        let mut e = Evaluator::new();
        e.set_global("inputs", &json!({})).unwrap();
        assert_eq!(eval(&mut e, "inputs.missing"), Evaluated::Undefined);
        let err = e.eval("nosuchvar").unwrap_err();
        assert!(err.contains("nosuchvar"), "{err}");
        assert!(e.eval("random(-1)").is_err());
        assert!(e.eval("random(1.5)").is_err());
        assert!(e.eval("'unterminated").is_err());
    }

    #[test]
    fn runaway_expressions_are_stopped() {
        let mut e = Evaluator::new();
        assert!(e.eval("while (true) {}").is_err(), "loop budget");
        assert!(
            e.eval("(function f() { return f(); })()").is_err(),
            "recursion budget"
        );
        assert!(e.eval("'x'.repeat(1e9)").is_err(), "string budget");
        assert!(e.eval("'x'.padStart(1e9)").is_err(), "string budget");
        // The sandbox is still usable afterwards.
        assert_eq!(eval(&mut e, "'ok'"), val("ok"));
    }

    #[test]
    fn there_is_no_io() {
        let mut e = Evaluator::new();
        for probe in [
            "require('fs')",
            "fetch('http://x')",
            "console.log(1)",
            "process.env",
        ] {
            assert!(e.eval(probe).is_err(), "{probe} must not exist");
        }
    }

    #[test]
    fn variable_names_must_be_identifiers() {
        let mut e = Evaluator::new();
        assert!(e.set_global("SEALOS_CLOUD_DOMAIN", &json!("x")).is_ok());
        assert!(e.set_global("a; process", &json!("x")).is_err());
        assert!(e.set_global("1abc", &json!("x")).is_err());
    }
}
