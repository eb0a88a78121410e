//! `${{ }}` expressions: JavaScript, evaluated by an embedded engine (QuickJS, through rquickjs)
//! in a sandbox.
//!
//! The sandbox has no I/O at all (QuickJS's standard library of files and processes is not
//! added), and every render gets limits it cannot get around: a wall-clock deadline for all its
//! expressions together ([`TIME_LIMIT`], enforced by the engine's interrupt handler, so an endless
//! loop stops), a heap limit ([`MEMORY_LIMIT`], so `s += s` or `Array(1e9).join()` stops), a
//! stack limit (so runaway recursion stops), and bounded string builders. Two functions are
//! added, as the Sealos renderer has them: `random(n)` (n lowercase letters a–z; 21 by default)
//! and `base64(s)`.
//!
//! `random` draws from a per-render generator: from the operating system's entropy normally, or
//! from a fixed seed in tests, so the same seed renders the same text.

use std::{
    cell::RefCell,
    sync::LazyLock,
    time::{Duration, Instant},
};

use base64::Engine as _;
use rand::{Rng, SeedableRng, rngs::StdRng};
use regex::Regex;
use rquickjs::{
    Coerced, Context, Ctx, Exception, Function, Runtime, Value as JsValue, function::Opt,
};
use serde_json::{Map, Value};

/// Longest string an expression may produce or build (1 MiB).
pub const MAX_STRING: usize = 1 << 20;
/// Wall-clock time all the expressions of one render may take together.
pub const TIME_LIMIT: Duration = Duration::from_secs(2);
/// Heap one render's engine may allocate.
pub const MEMORY_LIMIT: usize = 32 << 20;
/// Stack the engine may use (it runs on the calling thread, whose stack is larger).
pub const STACK_LIMIT: usize = 256 << 10;
/// Longest `random(n)` allowed.
pub const MAX_RANDOM: usize = 4096;
/// How every limit error starts: such errors are never rendered leniently.
const LIMIT_PREFIX: &str = "sandbox limit: ";

thread_local! {
    /// The generator `random()` draws from during the render running on this thread.
    static RNG: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Caps applied before any expression runs: bounded versions of the string builders that could
/// otherwise allocate up to the heap limit in one call.
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
  // join walks every index without checking the clock: `Array(1e9).join()` would run for a minute.
  [Array.prototype, Object.getPrototypeOf(Uint8Array.prototype)].forEach(function (proto) {
    var join = proto.join;
    proto.join = function (sep) {
      if (Number(this.length) > MAX) throw new RangeError('string too long');
      return join.call(this, sep);
    };
  });
})();
"#;

/// A JavaScript context holding the values expressions can read, with its own limits.
pub struct Evaluator {
    // The context must be dropped before its runtime: fields drop in order.
    context: Context,
    _runtime: Runtime,
    deadline: Instant,
    time_limit: Duration,
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
    /// A fresh sandbox with `random` and `base64` defined, no variables yet, and
    /// [`TIME_LIMIT`] from now. Fails only when the engine cannot allocate.
    pub fn new() -> Result<Evaluator, String> {
        Evaluator::with_time_limit(TIME_LIMIT)
    }

    /// A fresh sandbox whose expressions may run for `time_limit` in all, from now.
    pub fn with_time_limit(time_limit: Duration) -> Result<Evaluator, String> {
        let engine = |e: rquickjs::Error| format!("the JavaScript engine could not start: {e}");
        let runtime = Runtime::new().map_err(engine)?;
        let deadline = Instant::now() + time_limit;
        runtime.set_memory_limit(MEMORY_LIMIT);
        runtime.set_max_stack_size(STACK_LIMIT);
        runtime.set_interrupt_handler(Some(Box::new(move || Instant::now() >= deadline)));
        let context = Context::full(&runtime).map_err(engine)?;
        context
            .with(|ctx| {
                let globals = ctx.globals();
                globals.set("random", Function::new(ctx.clone(), js_random)?)?;
                globals.set("base64", Function::new(ctx.clone(), js_base64)?)?;
                ctx.eval::<(), _>(PRELUDE)
            })
            .map_err(engine)?;
        Ok(Evaluator {
            context,
            _runtime: runtime,
            deadline,
            time_limit,
        })
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
        self.run(&src, |_, _| Ok(()))
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
        let value = self.run(source.as_ref(), |ctx, value| {
            if value.is_undefined() {
                return Ok(None);
            }
            let Coerced(text) = value.get::<Coerced<String>>().map_err(|e| caught(ctx, e))?;
            Ok(Some(text))
        })?;
        match value {
            None => Ok(Evaluated::Undefined),
            Some(text) if text.len() > MAX_STRING => Err(format!(
                "{LIMIT_PREFIX}the result is longer than {MAX_STRING} bytes"
            )),
            Some(text) => Ok(Evaluated::Value(text)),
        }
    }

    /// Evaluates a condition with JavaScript truthiness.
    pub fn truthy(&mut self, expr: &str) -> Result<bool, String> {
        let source = rewrite_dashed_keys(expr);
        self.run(source.as_ref(), |_, value| {
            Ok(value.as_bool().unwrap_or_else(|| truthiness(&value)))
        })
    }

    /// Runs `source` and reads its value with `read`, turning an exception (or a limit reached)
    /// into a message.
    fn run<T>(
        &mut self,
        source: &str,
        read: impl for<'js> FnOnce(&Ctx<'js>, JsValue<'js>) -> Result<T, String>,
    ) -> Result<T, String> {
        let deadline = self.deadline;
        let limit = self.time_limit;
        self.context.with(|ctx| {
            let outcome = ctx
                .eval::<JsValue, _>(source)
                .map_err(|e| caught(&ctx, e))
                .and_then(|value| read(&ctx, value));
            outcome.map_err(|message| {
                if Instant::now() >= deadline {
                    format!(
                        "{LIMIT_PREFIX}the template's expressions ran longer than {} ms",
                        limit.as_millis()
                    )
                } else if message.contains("out of memory") {
                    format!(
                        "{LIMIT_PREFIX}the expression used more than {} MiB",
                        MEMORY_LIMIT >> 20
                    )
                } else if message.contains("call stack size exceeded")
                    || message.contains("stack overflow")
                    || message.contains("string too long")
                {
                    format!("{LIMIT_PREFIX}{message}")
                } else {
                    message
                }
            })
        })
    }
}

/// JavaScript truthiness of a value that is not a boolean.
fn truthiness(value: &JsValue<'_>) -> bool {
    if value.is_undefined() || value.is_null() {
        return false;
    }
    if let Some(n) = value.as_number() {
        return n != 0.0 && !n.is_nan();
    }
    if let Some(s) = value.as_string() {
        return s.to_string().is_ok_and(|s| !s.is_empty());
    }
    true
}

/// The message of what an evaluation threw: `Name: message` for an error object, the value as a
/// string otherwise.
fn caught(ctx: &Ctx<'_>, error: rquickjs::Error) -> String {
    if !error.is_exception() {
        return error.to_string();
    }
    let thrown = ctx.catch();
    if let Some(exception) = thrown.as_exception() {
        let name: String = exception
            .get::<_, Coerced<String>>("name")
            .map(|n| n.0)
            .unwrap_or_else(|_| "Error".into());
        let message = exception.message().unwrap_or_default();
        return format!("{name}: {message}");
    }
    if thrown.is_null() || thrown.is_undefined() {
        // QuickJS throws nothing it can allocate when the heap limit is reached.
        return "out of memory".into();
    }
    thrown
        .get::<Coerced<String>>()
        .map(|s| format!("Uncaught {}", s.0))
        .unwrap_or_else(|_| "an exception was thrown".into())
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

fn js_random<'js>(ctx: Ctx<'js>, n: Opt<Coerced<f64>>) -> rquickjs::Result<String> {
    let n = n.0.map_or(21.0, |n| n.0);
    if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n as usize <= MAX_RANDOM) {
        return Err(Exception::throw_range(
            &ctx,
            &format!("random(n) needs a whole number from 0 to {MAX_RANDOM}"),
        ));
    }
    Ok(random_letters(n as usize))
}

fn js_base64(text: Coerced<String>) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.0.as_bytes())
}

/// `inputs.foo-bar` → `inputs['foo-bar']`, as the Sealos renderer rewrites keys with dashes.
fn rewrite_dashed_keys(expr: &str) -> std::borrow::Cow<'_, str> {
    static DASHED: LazyLock<Regex> = LazyLock::new(|| {
        super::pattern(r"(?-u:\b)(inputs|defaults)\.([A-Za-z_$][A-Za-z0-9_$]*(?:-[A-Za-z0-9_$]+)+)")
    });
    DASHED.replace_all(expr, "$1['$2']")
}

/// Whether an evaluation error is the sandbox stopping a runaway expression (its time, memory,
/// stack or string limit) rather than the expression's own failure. Limit errors are never
/// rendered leniently: a template that hits them is refused.
pub fn is_budget_error(message: &str) -> bool {
    message.starts_with(LIMIT_PREFIX)
}

/// The first line of an engine error, so a warning stays one line.
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
        let mut e = Evaluator::new().unwrap();
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
        let mut e = Evaluator::new().unwrap();
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
            let mut e = Evaluator::new().unwrap();
            (eval(&mut e, "random(8)"), eval(&mut e, "random()"))
        });
        let b = with_random_source(Some(7), || {
            let mut e = Evaluator::new().unwrap();
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
        let c = with_random_source(Some(8), || {
            eval(&mut Evaluator::new().unwrap(), "random(8)")
        });
        assert_ne!(a.0, c);
    }

    #[test]
    fn base64_uses_the_standard_alphabet_with_padding() {
        let mut e = Evaluator::new().unwrap();
        assert_eq!(eval(&mut e, "base64('hello')"), val("aGVsbG8="));
        assert_eq!(eval(&mut e, "base64('')"), val(""));
    }

    #[test]
    fn undefined_and_errors_are_reported_not_rendered() {
        let mut e = Evaluator::new().unwrap();
        e.set_global("inputs", &json!({})).unwrap();
        assert_eq!(eval(&mut e, "inputs.missing"), Evaluated::Undefined);
        let err = e.eval("nosuchvar").unwrap_err();
        assert!(err.contains("nosuchvar"), "{err}");
        assert!(e.eval("random(-1)").is_err());
        assert!(e.eval("random(1.5)").is_err());
        assert!(e.eval("'unterminated").is_err());
    }

    #[test]
    fn runaway_expressions_are_stopped_by_a_limit() {
        for runaway in [
            "(function f() { return f(); })()",
            "'x'.repeat(1e9)",
            "'x'.padStart(1e9)",
            "var s = 'x'; while (true) s += s;",
            "Array(1e9).join()",
            "String(Array(1e9))",
            "Array.prototype.join.call({length: 1e9})",
            "new Uint8Array(3e7).join()",
            "Array(1e9).fill(0)",
            "var a = []; while (true) a.push({})",
            "Array(1e9).indexOf(1)",
            "Array.from({length: 1e9})",
        ] {
            let mut e = Evaluator::new().unwrap();
            let started = Instant::now();
            let err = e.eval(runaway).expect_err(runaway);
            let took = started.elapsed();
            assert!(is_budget_error(&err), "{runaway}: {err}");
            assert!(
                took < TIME_LIMIT + Duration::from_millis(500),
                "{runaway} took {took:?}"
            );
            if took < TIME_LIMIT && !runaway.starts_with("var") {
                // Below the time limit, and with nothing kept in a global, the sandbox is still
                // usable afterwards.
                assert_eq!(eval(&mut e, "'ok'"), val("ok"), "after {runaway}");
            }
        }
    }

    #[test]
    fn an_endless_loop_stops_at_the_time_limit() {
        let mut e = Evaluator::with_time_limit(Duration::from_millis(200)).unwrap();
        let started = Instant::now();
        let err = e.eval("while (true) {}").unwrap_err();
        let took = started.elapsed();
        assert!(is_budget_error(&err) && err.contains("200 ms"), "{err}");
        assert!(took < Duration::from_secs(1), "{took:?}");
    }

    #[test]
    fn there_is_no_io() {
        let mut e = Evaluator::new().unwrap();
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
        let mut e = Evaluator::new().unwrap();
        assert!(e.set_global("SEALOS_CLOUD_DOMAIN", &json!("x")).is_ok());
        assert!(e.set_global("a; process", &json!("x")).is_err());
        assert!(e.set_global("1abc", &json!("x")).is_err());
    }
}
