//! Rendering a parsed [`Template`] with inputs and platform values into Kubernetes objects.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::LazyLock,
};

use app::model::{TemplateWarning, number::decimal};
use regex::Regex;

use crate::config;
use serde_json::Value;

use super::{
    Template, TemplateError,
    directives::{self, SourceLine},
    expr::{self, Evaluated, Evaluator},
    parse::{self, InputDef, InputType},
};

/// The platform values every template may read, with the values used when none is given.
pub const PLATFORM_DEFAULTS: [(&str, &str); 4] = [
    ("SEALOS_NAMESPACE", "default"),
    ("SEALOS_CLOUD_DOMAIN", config::DEFAULT_CLOUD_DOMAIN),
    ("SEALOS_CERT_SECRET_NAME", config::DEFAULT_CERT_SECRET),
    ("SEALOS_SERVICE_ACCOUNT", ""),
];

/// What to render a template with.
#[derive(Debug, Clone, Default)]
pub struct RenderRequest {
    /// Input values by name; a missing or empty value falls back to the input's default.
    pub inputs: BTreeMap<String, String>,
    /// Platform values (`SEALOS_NAMESPACE`, ...) by name. Missing ones take [`PLATFORM_DEFAULTS`];
    /// `SEALOS_SERVICE_ACCOUNT` defaults to the namespace without its `ns-` prefix.
    pub platform: BTreeMap<String, String>,
    /// Replaces `defaults.app_name` (the instance name), as the Sealos API does.
    pub app_name: Option<String>,
    /// Seed for `random()`; `None` draws from the operating system.
    pub seed: Option<u64>,
    /// Defaults computed by an earlier render, reused as they are (so a re-render with new
    /// inputs keeps the generated passwords).
    pub fixed_defaults: BTreeMap<String, String>,
    /// Refuse any expression that fails or is `undefined`. Off by default: then the render is
    /// Sealos-compatible (`''` in the resources, `undefined` in defaults and input defaults) and
    /// each such expression is reported in [`Rendered::warnings`].
    pub strict: bool,
}

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedObject {
    /// The object.
    pub object: Value,
    /// 1-based line of the template file where its document starts.
    pub line: usize,
}

/// The result of a render.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The computed defaults (they may hold generated secrets: never log them).
    pub defaults: BTreeMap<String, String>,
    /// The input values used, after defaults were applied.
    pub inputs: BTreeMap<String, String>,
    /// The platform values used.
    pub platform: BTreeMap<String, String>,
    /// The objects, in file order.
    pub objects: Vec<RenderedObject>,
    /// Each input's default, rendered (what the deploy form pre-fills, and what Sealos copies
    /// into its `Instance`).
    pub input_defaults: BTreeMap<String, String>,
    /// Expressions rendered leniently (never set when [`RenderRequest::strict`]).
    pub warnings: Vec<TemplateWarning>,
}

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| super::pattern(r"\$\{\{\s*(.*?)\s*\}\}"));
static DEFAULT_REF: LazyLock<Regex> = LazyLock::new(|| {
    super::pattern(r#"defaults\s*(?:\.\s*([A-Za-z_$][A-Za-z0-9_$-]*)|\[\s*['"]([^'"]+)['"]\s*\])"#)
});

impl Template {
    /// Renders the template. Pure: the same request with the same seed gives the same objects.
    pub fn render(&self, request: &RenderRequest) -> Result<Rendered, TemplateError> {
        expr::with_random_source(request.seed, || Renderer::new(self, request)?.run())
    }
}

/// Which pass an expression is evaluated in: it decides what Sealos puts in place of an
/// expression that fails or is `undefined`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// `spec.defaults` and the inputs' defaults: the text `undefined`.
    Defaults,
    /// The resource documents: the empty string.
    Resources,
}

impl Pass {
    fn fallback(self) -> &'static str {
        match self {
            Pass::Defaults => "undefined",
            Pass::Resources => "",
        }
    }
}

struct Renderer<'t> {
    template: &'t Template,
    request: &'t RenderRequest,
    eval: Evaluator,
    platform: BTreeMap<String, String>,
    /// Values of expressions that cannot change within one render (no `random`).
    cache: HashMap<String, String>,
    pass: Pass,
    warnings: Vec<TemplateWarning>,
    /// Results held back from the resources' text until they are parsed (see [`typed`]).
    typed: Substitutions,
    /// The inputs the caller gave a value other than the default: what they read is typed.
    supplied: BTreeSet<String>,
}

impl<'t> Renderer<'t> {
    fn new(
        template: &'t Template,
        request: &'t RenderRequest,
    ) -> Result<Renderer<'t>, TemplateError> {
        let mut platform: BTreeMap<String, String> = PLATFORM_DEFAULTS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        platform.extend(request.platform.clone());
        if platform
            .get("SEALOS_SERVICE_ACCOUNT")
            .is_none_or(String::is_empty)
        {
            let ns = platform["SEALOS_NAMESPACE"].clone();
            platform.insert(
                "SEALOS_SERVICE_ACCOUNT".into(),
                ns.strip_prefix("ns-").unwrap_or(&ns).to_string(),
            );
        }
        let mut eval = Evaluator::new().map_err(internal)?;
        for (k, v) in &platform {
            eval.set_global(k, &Value::String(v.clone()))
                .map_err(|message| TemplateError::Input {
                    name: k.clone(),
                    message: format!("bad platform value: {message}"),
                })?;
        }
        Ok(Renderer {
            template,
            request,
            eval,
            platform,
            cache: HashMap::new(),
            pass: Pass::Defaults,
            warnings: Vec::new(),
            typed: Substitutions::default(),
            supplied: BTreeSet::new(),
        })
    }

    fn run(mut self) -> Result<Rendered, TemplateError> {
        let defaults = self.defaults()?;
        self.eval.set_map("defaults", &defaults).map_err(internal)?;
        let (inputs, input_defaults) = self.inputs()?;
        self.eval.set_map("inputs", &inputs).map_err(internal)?;
        self.pass = Pass::Resources;
        let lenient = (!self.request.strict).then_some(&mut self.warnings);
        let lines = directives::apply(
            &self.template.body,
            self.template.body_line,
            &mut self.eval,
            lenient,
        )?;
        let mut substituted = Vec::with_capacity(lines.len());
        for SourceLine { line, text } in lines {
            substituted.push((line, self.substitute(text, line)?));
        }
        let objects = parse_documents(&substituted, self.template.body_line, &self.typed)?;
        Ok(Rendered {
            defaults,
            inputs,
            platform: self.platform,
            objects,
            input_defaults,
            warnings: self.warnings,
        })
    }

    /// Computes `spec.defaults` in dependency order (a default may use others).
    fn defaults(&mut self) -> Result<BTreeMap<String, String>, TemplateError> {
        let defs = &self.template.defaults;
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let mut pending: Vec<usize> = (0..defs.len()).collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut still = Vec::new();
            for i in pending {
                let def = &defs[i];
                let waits = DEFAULT_REF.captures_iter(&def.value).any(|c| {
                    let name = c
                        .get(1)
                        .or(c.get(2))
                        .map(|m| m.as_str())
                        .unwrap_or_default();
                    name != def.name
                        && defs.iter().any(|d| d.name == name)
                        && !values.contains_key(name)
                });
                if waits {
                    still.push(i);
                    continue;
                }
                self.eval.set_map("defaults", &values).map_err(internal)?;
                let value = match (&self.request.app_name, def.name.as_str()) {
                    (Some(name), "app_name") => name.clone(),
                    _ => match self.request.fixed_defaults.get(&def.name) {
                        Some(fixed) => fixed.clone(),
                        None => self.substitute(&def.value, def.line)?,
                    },
                };
                values.insert(def.name.clone(), value);
            }
            if still.len() == before {
                let names: Vec<_> = still.iter().map(|&i| defs[i].name.as_str()).collect();
                return Err(TemplateError::Parse {
                    line: defs[still[0]].line,
                    message: format!(
                        "defaults refer to each other in a cycle: {}",
                        names.join(", ")
                    ),
                });
            }
            pending = still;
        }
        if let Some(name) = &self.request.app_name {
            values.insert("app_name".into(), name.clone());
        }
        Ok(values)
    }

    /// Resolves every input: the given value, else its (rendered) default; then validates.
    /// Returns the values and the rendered defaults.
    #[allow(clippy::type_complexity)]
    fn inputs(
        &mut self,
    ) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>), TemplateError> {
        let defs = &self.template.inputs;
        for name in self.request.inputs.keys() {
            if !defs.iter().any(|d| &d.name == name) {
                let known: Vec<_> = defs.iter().map(|d| d.name.as_str()).collect();
                let message = if known.is_empty() {
                    "this template takes no inputs".to_string()
                } else {
                    format!("unknown input; this template takes: {}", known.join(", "))
                };
                return Err(TemplateError::Input {
                    name: name.clone(),
                    message,
                });
            }
        }
        let mut values = BTreeMap::new();
        let mut rendered_defaults = BTreeMap::new();
        for def in defs {
            let default = self.substitute(&def.default, def.line)?;
            let given = self.request.inputs.get(&def.name).filter(|v| !v.is_empty());
            if given.is_some_and(|g| *g != default) {
                self.supplied.insert(def.name.clone());
            }
            values.insert(def.name.clone(), given.cloned().unwrap_or(default.clone()));
            rendered_defaults.insert(def.name.clone(), default);
        }
        self.eval.set_map("inputs", &values).map_err(internal)?;
        for def in defs {
            let visible = match &def.condition {
                Some(cond) => match self.eval.truthy(cond) {
                    Ok(visible) => visible,
                    Err(message) if !self.request.strict && !expr::is_budget_error(&message) => {
                        self.warnings.push(TemplateWarning {
                            line: def.line,
                            expr: cond.clone(),
                            message: format!("failed: {}", expr::first_line(&message)),
                            rendered_as: "false".into(),
                        });
                        false
                    }
                    Err(message) => {
                        return Err(TemplateError::Expression {
                            line: def.line,
                            expr: cond.clone(),
                            message,
                        });
                    }
                },
                None => true,
            };
            if visible {
                validate_input(def, &values[&def.name])?;
            }
        }
        Ok((values, rendered_defaults))
    }

    /// Replaces every `${{ expr }}` in one line of text.
    fn substitute(&mut self, text: &str, line: usize) -> Result<String, TemplateError> {
        if !text.contains("${{") {
            return Ok(text.to_string());
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for caps in PLACEHOLDER.captures_iter(text) {
            let whole = caps.get(0).expect("group 0 always matches");
            let expr = caps[1].to_string();
            out.push_str(&text[last..whole.start()]);
            let value = self.value_of(&expr, line)?;
            if self.pass == Pass::Resources && typed::reads_any(&expr, &self.supplied) {
                out.push_str(&self.typed.text_for(value));
            } else {
                out.push_str(&value);
            }
            last = whole.end();
        }
        out.push_str(&text[last..]);
        Ok(out)
    }

    fn value_of(&mut self, expr: &str, line: usize) -> Result<String, TemplateError> {
        if let Some(v) = self.cache.get(expr) {
            return Ok(v.clone());
        }
        let fail = |message: String| TemplateError::Expression {
            line,
            expr: expr.to_string(),
            message,
        };
        if expr.is_empty() {
            return Err(fail("the expression is empty".into()));
        }
        let failure = match self.eval.eval(expr) {
            Ok(Evaluated::Value(v)) => Ok(v),
            Ok(Evaluated::Undefined) => Err(
                "the value is undefined (a missing input, default or platform value?)".to_string(),
            ),
            Err(message) if expr::is_budget_error(&message) => return Err(fail(message)),
            Err(message) => Err(message),
        };
        let value = match failure {
            Ok(v) => v,
            Err(message) if self.request.strict => return Err(fail(message)),
            Err(message) => {
                let rendered_as = self.pass.fallback().to_string();
                self.warnings.push(TemplateWarning {
                    line,
                    expr: expr.to_string(),
                    message: if message.starts_with("the value is undefined") {
                        "is undefined".into()
                    } else {
                        format!("failed: {}", expr::first_line(&message))
                    },
                    rendered_as: rendered_as.clone(),
                });
                return Ok(rendered_as);
            }
        };
        // `defaults` and `inputs` change while they are being computed; only cache afterwards.
        if !expr.contains("random") && !expr.contains("defaults") && !expr.contains("inputs") {
            self.cache.insert(expr.to_string(), value.clone());
        }
        Ok(value)
    }
}

fn internal(message: String) -> TemplateError {
    TemplateError::Parse { line: 0, message }
}

fn validate_input(def: &InputDef, value: &str) -> Result<(), TemplateError> {
    let err = |message: String| {
        Err(TemplateError::Input {
            name: def.name.clone(),
            message,
        })
    };
    if value.is_empty() {
        return if def.required {
            err("is required".into())
        } else {
            Ok(())
        };
    }
    if let Some(pattern) = &def.pattern {
        let matches = parse::input_pattern(pattern).is_ok_and(|re| re.is_match(value));
        if !matches {
            return err(format!("{value:?} does not match the pattern {pattern}"));
        }
    }
    match def.kind {
        InputType::String => Ok(()),
        InputType::Number if decimal(value.trim()).is_some_and(f64::is_finite) => Ok(()),
        InputType::Number => err(format!("expected a number, got {value:?}")),
        InputType::Boolean if value == "true" || value == "false" => Ok(()),
        InputType::Boolean => err(format!("expected 'true' or 'false', got {value:?}")),
        InputType::Choice if def.options.iter().any(|o| o == value) => Ok(()),
        InputType::Choice => err(format!(
            "expected one of {}, got {value:?}",
            def.options.join(", ")
        )),
    }
}

mod documents;
#[cfg(test)]
mod tests;
mod typed;

use documents::parse_documents;

use typed::Substitutions;
