//! Reading a template file: the `Template` CR (the first YAML document) into typed fields, and
//! the rest of the file kept as raw text, because directives may make it invalid YAML until it is
//! rendered.

use std::fmt;

use serde::{
    Deserialize, Deserializer,
    de::{MapAccess, Visitor},
};

use super::TemplateError;

/// A parsed template file.
#[derive(Debug, Clone)]
pub struct Template {
    /// `metadata.name`: the template's id.
    pub name: String,
    /// Display name.
    pub title: String,
    /// One-line description.
    pub description: String,
    /// Icon URL.
    pub icon: String,
    /// README URL.
    pub readme: String,
    /// Product homepage.
    pub url: String,
    /// Category slugs.
    pub categories: Vec<String>,
    /// Hidden from listings.
    pub draft: bool,
    /// `spec.gitRepo`: where the template's source lives.
    pub git_repo: String,
    /// `spec.templateType` (`inline` in the corpus).
    pub template_type: String,
    /// `spec.author`.
    pub author: String,
    /// `spec.defaults`, in file order: values computed at render time.
    pub defaults: Vec<DefaultDef>,
    /// `spec.inputs`, in file order: what the deploy form asks for.
    pub inputs: Vec<InputDef>,
    /// Everything after the Template CR, verbatim.
    pub body: String,
    /// The change box's group words and other names for components, as the Template CR's
    /// `berth.dev/aliases` annotation declares them: `word=id,id; word=id`.
    pub aliases: String,
    /// The template's own troubleshooting rules (`berth.dev/hints`), before Berth's generic ones.
    pub hints: Vec<crate::advice::Rule>,
    /// Its scale guidance (`berth.dev/scale`).
    pub scale: Vec<crate::advice::scale::ScaleGroup>,
    /// The 1-based line of the file on which `body` starts.
    pub body_line: usize,
}

/// One entry of `spec.defaults`.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultDef {
    /// Its name, read as `defaults.<name>`.
    pub name: String,
    /// The value, which may contain `${{ }}`.
    pub value: String,
    /// Its declared `type` (`string` when the template names none).
    pub kind: String,
    /// 1-based line of the file where it is declared.
    pub line: usize,
}

/// The type of an input field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// Free text.
    String,
    /// A number (kept as text, checked to parse).
    Number,
    /// One of `options`.
    Choice,
    /// `'true'` or `'false'`.
    Boolean,
}

impl InputType {
    /// The name used in templates: `string`, `number`, `choice` or `boolean`.
    pub fn as_str(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Number => "number",
            InputType::Choice => "choice",
            InputType::Boolean => "boolean",
        }
    }
}

/// One entry of `spec.inputs`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputDef {
    /// Its name, read as `inputs.<name>`.
    pub name: String,
    /// Help text (may contain `${{ }}`).
    pub description: String,
    /// The field type.
    pub kind: InputType,
    /// Default value (may contain `${{ }}`); empty when none.
    pub default: String,
    /// Whether a non-empty value is needed (ignored while `if` is false).
    pub required: bool,
    /// Allowed values of a `choice`.
    pub options: Vec<String>,
    /// JavaScript condition; when false the field is hidden and not required.
    pub condition: Option<String>,
    /// A regular expression a non-empty value must match in full (a Berth extension of the
    /// Sealos format; checked to compile when the template is parsed).
    pub pattern: Option<String>,
    /// 1-based line of the file where it is declared.
    pub line: usize,
}

/// The Template CR annotation that names the change box's group words and other names.
pub const ALIASES: &str = "berth.dev/aliases";

impl Template {
    /// The change box's words for groups of components: the declared aliases, then the scale
    /// groups that scale out (an alias of the same word wins).
    pub fn group_words(&self) -> String {
        format!(
            "{}; {}",
            self.aliases,
            crate::advice::scale::aliases(&self.scale)
        )
    }

    /// Parses a whole template file.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let (cr_text, body, body_line) = split_template_cr(text);
        let cr: TemplateCr = serde_saphyr::from_str(cr_text).map_err(|e| TemplateError::Parse {
            line: e.location().map(|l| l.line() as usize).unwrap_or(1),
            message: format!(
                "the first document must be a Template CR: {}",
                first_line(&e.to_string())
            ),
        })?;
        if cr.kind != "Template" {
            return Err(TemplateError::Parse {
                line: 1,
                message: format!(
                    "the first document must have kind: Template, found kind: {:?}",
                    cr.kind
                ),
            });
        }
        let annotation = |key: &str| {
            cr.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .map(|s| s.0.clone())
                .unwrap_or_default()
        };
        let aliases = annotation(ALIASES);
        let declared = |key: &str, message: String| TemplateError::Parse {
            line: line_of_key(cr_text, key),
            message: format!("the {key} annotation: {}", first_line(&message)),
        };
        let hints = match annotation(crate::advice::HINTS_ANNOTATION) {
            t if t.trim().is_empty() => Vec::new(),
            t => crate::advice::parse_rules(&t)
                .map_err(|e| declared(crate::advice::HINTS_ANNOTATION, e))?,
        };
        let scale = match annotation(crate::advice::scale::SCALE_ANNOTATION) {
            t if t.trim().is_empty() => Vec::new(),
            t => crate::advice::scale::parse(&t)
                .map_err(|e| declared(crate::advice::scale::SCALE_ANNOTATION, e))?,
        };
        let name = cr.metadata.name.unwrap_or_default();
        if name.is_empty() {
            return Err(TemplateError::Parse {
                line: 1,
                message: "the Template CR needs metadata.name".into(),
            });
        }
        let spec = cr.spec.unwrap_or_default();
        let defaults = spec
            .defaults
            .unwrap_or_default()
            .0
            .into_iter()
            .map(|(name, d)| DefaultDef {
                line: line_of_entry(cr_text, "defaults", &name),
                name,
                value: d.value.0,
                kind: Some(d.kind.0)
                    .filter(|k| !k.is_empty())
                    .unwrap_or_else(|| "string".into()),
            })
            .collect();
        let mut inputs = Vec::new();
        for (name, raw) in spec.inputs.unwrap_or_default().0 {
            let raw = raw.unwrap_or_default();
            let kind = match raw.kind.as_deref().unwrap_or("string") {
                "string" | "" => InputType::String,
                "number" => InputType::Number,
                "choice" => InputType::Choice,
                "boolean" => InputType::Boolean,
                other => {
                    return Err(TemplateError::Parse {
                        line: line_of_key(cr_text, &name),
                        message: format!(
                            "input `{name}` has type {other:?}; expected string, number, choice or boolean"
                        ),
                    });
                }
            };
            let required = matches!(raw.required.0.as_str(), "true");
            inputs.push(InputDef {
                description: raw.description.0,
                kind,
                default: raw.default.0,
                required,
                options: raw
                    .options
                    .unwrap_or_default()
                    .into_iter()
                    .map(|o| o.0)
                    .collect(),
                condition: raw.condition.map(|c| c.0).filter(|c| !c.trim().is_empty()),
                pattern: raw.pattern.map(|p| p.0).filter(|p| !p.is_empty()),
                line: line_of_entry(cr_text, "inputs", &name),
                name,
            });
        }
        for input in &inputs {
            if input.kind == InputType::Choice && input.options.is_empty() {
                return Err(TemplateError::Parse {
                    line: line_of_key(cr_text, &input.name),
                    message: format!("input `{}` is a choice but lists no options", input.name),
                });
            }
            if let Some(pattern) = &input.pattern
                && let Err(e) = input_pattern(pattern)
            {
                return Err(TemplateError::Parse {
                    line: line_of_key(cr_text, &input.name),
                    message: format!(
                        "input `{}` has a pattern that is not a regular expression: {}",
                        input.name,
                        first_line(&e.to_string())
                    ),
                });
            }
        }
        Ok(Template {
            name,
            title: spec.title.0,
            description: spec.description.0,
            icon: spec.icon.0,
            readme: spec.readme.0,
            url: spec.url.0,
            categories: spec
                .categories
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.0)
                .collect(),
            draft: spec.draft.0 == "true",
            git_repo: spec.git_repo.0,
            template_type: spec.template_type.0,
            author: spec.author.0,
            defaults,
            inputs,
            body: body.to_string(),
            body_line,
            aliases,
            hints,
            scale,
        })
    }
}

/// Splits at the first line that is exactly `---`: (Template CR text, body, body's first line).
fn split_template_cr(text: &str) -> (&str, &str, usize) {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            return (&text[..offset], &text[offset + line.len()..], i + 2);
        }
        offset += line.len();
    }
    (text, "", text.lines().count() + 1)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The line of `key:` inside the `section:` block of the CR (best effort, for messages).
fn line_of_entry(text: &str, section: &str, key: &str) -> usize {
    let start = text
        .lines()
        .position(|l| l.trim_start().starts_with(&format!("{section}:")))
        .unwrap_or(0);
    let found = text.lines().enumerate().skip(start + 1).find(|(_, l)| {
        let t = l.trim_start();
        t.starts_with(&format!("{key}:"))
            || t.starts_with(&format!("'{key}':"))
            || t.starts_with(&format!("\"{key}\":"))
    });
    found.map(|(i, _)| i + 1).unwrap_or(start + 1)
}

/// The first line on which `key:` appears, for error messages about a map entry.
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(&format!("{key}:")))
        .map(|i| i + 1)
        .unwrap_or(1)
}

// ---- the CR as it appears in YAML -------------------------------------------------------------

#[derive(Deserialize)]
struct TemplateCr {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: CrMetadata,
    spec: Option<CrSpec>,
}

#[derive(Deserialize, Default)]
struct CrMetadata {
    name: Option<String>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, Scalar>>,
}

#[derive(Deserialize, Default)]
struct CrSpec {
    #[serde(default)]
    title: Scalar,
    #[serde(default)]
    description: Scalar,
    #[serde(default)]
    icon: Scalar,
    #[serde(default)]
    readme: Scalar,
    #[serde(default)]
    url: Scalar,
    #[serde(default)]
    draft: Scalar,
    #[serde(default, rename = "gitRepo")]
    git_repo: Scalar,
    #[serde(default, rename = "templateType")]
    template_type: Scalar,
    #[serde(default)]
    author: Scalar,
    categories: Option<Vec<Scalar>>,
    defaults: Option<Ordered<CrDefault>>,
    inputs: Option<Ordered<Option<CrInput>>>,
}

#[derive(Deserialize)]
struct CrDefault {
    #[serde(default)]
    value: Scalar,
    #[serde(default, rename = "type")]
    kind: Scalar,
}

#[derive(Deserialize, Default)]
struct CrInput {
    #[serde(default)]
    description: Scalar,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    default: Scalar,
    #[serde(default)]
    required: Scalar,
    options: Option<Vec<Scalar>>,
    #[serde(rename = "if")]
    condition: Option<Scalar>,
    pattern: Option<Scalar>,
}

/// An input's `pattern`, anchored so that it must match the whole value.
pub fn input_pattern(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
}

/// Any YAML scalar (string, number, boolean or null), as text.
#[derive(Default, Debug, Clone)]
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A YAML map kept in file order.
struct Ordered<T>(Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<T>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
            fn visit_unit<E>(self) -> Result<Ordered<T>, E> {
                Ok(Ordered(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: demo\nspec:\n  title: Demo\n  defaults:\n    app_name:\n      type: string\n      value: demo-${{ random(8) }}\n    zeta:\n      type: string\n      value: z\n    alpha:\n      type: number\n      value: 3\n  inputs:\n    size:\n      description: Disk size\n      type: number\n      default: 2\n      required: true\n    mode:\n      description: Mode\n      type: choice\n      default: a\n      options: [a, b]\n      required: false\n      if: inputs.size === '2'\n---\napiVersion: v1\nkind: ConfigMap\n";

    #[test]
    fn parses_the_cr_and_keeps_the_body_raw_with_its_line() {
        let t = Template::parse(MINIMAL).expect("parses");
        assert_eq!(t.name, "demo");
        assert_eq!(t.title, "Demo");
        let names: Vec<_> = t.defaults.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["app_name", "zeta", "alpha"], "file order is kept");
        assert_eq!(t.defaults[2].value, "3", "numbers become text");
        assert_eq!(t.inputs.len(), 2);
        assert_eq!(t.inputs[0].kind, InputType::Number);
        assert_eq!(t.inputs[0].default, "2");
        assert!(t.inputs[0].required);
        assert_eq!(t.inputs[1].options, ["a", "b"]);
        assert_eq!(
            t.inputs[1].condition.as_deref(),
            Some("inputs.size === '2'")
        );
        assert_eq!(t.body_line, 31);
        assert!(t.body.starts_with("apiVersion: v1\n"));
    }

    #[test]
    fn a_first_document_that_is_not_a_template_is_an_error_on_line_1() {
        let err = Template::parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n")
            .unwrap_err();
        assert_eq!(err.line(), Some(1));
        assert!(err.to_string().contains("kind: Template"), "{err}");
    }

    #[test]
    fn malformed_yaml_in_the_cr_names_its_line() {
        let err = Template::parse("apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: x\nspec:\n  title: [unclosed\n---\n").unwrap_err();
        assert!(matches!(err, TemplateError::Parse { .. }), "{err:?}");
        assert!(err.line().unwrap() >= 6, "{err}");
    }

    #[test]
    fn a_choice_without_options_and_an_unknown_type_are_rejected() {
        let choice = "kind: Template\nmetadata: {name: x}\nspec:\n  inputs:\n    pick:\n      type: choice\n";
        let err = Template::parse(choice).unwrap_err();
        assert!(err.to_string().contains("lists no options"), "{err}");
        assert_eq!(err.line(), Some(5));
        let unknown =
            "kind: Template\nmetadata: {name: x}\nspec:\n  inputs:\n    n:\n      type: integer\n";
        assert!(
            Template::parse(unknown)
                .unwrap_err()
                .to_string()
                .contains("\"integer\"")
        );
    }
}
