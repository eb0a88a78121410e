//! `berth template check`, as a function: a template parses, renders with the values a person
//! would have to type (a sample for each required input without a default), and every object it
//! renders is well-formed. The CLI and the console's import both use it.

use std::collections::BTreeMap;

use super::{RenderRequest, Rendered, Template, TemplateError, parse::InputType, validate};

/// A value of the input's type, for a required input that has no default.
fn sample_value(i: &super::InputDef) -> String {
    match i.kind {
        InputType::Number => "1".into(),
        InputType::Boolean => "true".into(),
        InputType::Choice => i.options.first().cloned().unwrap_or_default(),
        InputType::String if i.pattern.is_some() => String::new(),
        InputType::String => "value".into(),
    }
}

/// Why a template failed its check, with the warnings its render gave before that (an
/// expression rendered as `''` is often why an object is then invalid).
#[derive(Debug)]
pub struct Failed {
    /// The first problem, naming its line.
    pub error: TemplateError,
    /// Expressions rendered leniently.
    pub warnings: Vec<app::model::TemplateWarning>,
}

impl From<TemplateError> for Failed {
    fn from(error: TemplateError) -> Failed {
        Failed {
            error,
            warnings: Vec::new(),
        }
    }
}

/// Parses, renders (seed 0) and validates `text`; the first problem names its line.
pub fn check(text: &str, strict: bool) -> Result<(Template, Rendered), Failed> {
    let template = Template::parse(text)?;
    let required: BTreeMap<String, String> = template
        .inputs
        .iter()
        .filter(|i| i.required && i.default.is_empty())
        .map(|i| (i.name.clone(), sample_value(i)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let rendered = template.render(&RenderRequest {
        inputs: required,
        seed: Some(0),
        strict,
        ..Default::default()
    })?;
    for obj in &rendered.objects {
        validate::check_object(obj).map_err(|error| Failed {
            error,
            warnings: rendered.warnings.clone(),
        })?;
    }
    Ok((template, rendered))
}
