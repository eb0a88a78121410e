//! The templates Berth offers: every `*/index.yaml` under the templates directory
//! (`manifests/` by default), parsed once at startup.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use serde::Serialize;

use crate::template::{InputDef, Template};

/// A template as the API lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInfo {
    /// Id (`metadata.name`).
    pub id: String,
    /// Display name.
    pub title: String,
    /// One line about it.
    pub description: String,
    /// Icon URL.
    pub icon: String,
    /// Categories.
    pub categories: Vec<String>,
    /// The deploy form: each input with its type, default, options and condition.
    pub inputs: Vec<InputInfo>,
}

/// One input of the deploy form.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputInfo {
    /// Name.
    pub name: String,
    /// Help text.
    pub description: String,
    /// `string`, `number`, `choice` or `boolean`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Default value (may be an expression).
    pub default: String,
    /// Whether a value is needed.
    pub required: bool,
    /// Choices for `choice`.
    pub options: Vec<String>,
    /// When the field is shown (JavaScript over `inputs`).
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl From<&InputDef> for InputInfo {
    fn from(i: &InputDef) -> InputInfo {
        InputInfo {
            name: i.name.clone(),
            description: i.description.clone(),
            kind: i.kind.as_str(),
            default: i.default.clone(),
            required: i.required,
            options: i.options.clone(),
            condition: i.condition.clone(),
        }
    }
}

/// Parsed templates by id.
#[derive(Clone, Default)]
pub struct Templates {
    by_id: Arc<BTreeMap<String, Arc<Template>>>,
}

impl Templates {
    /// Loads every `<dir>/*/index.yaml`. A template that does not parse is skipped with a warning.
    pub fn load(dir: &Path) -> Templates {
        let mut by_id = BTreeMap::new();
        let entries = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(Result::ok).collect::<Vec<_>>())
            .unwrap_or_else(|e| {
                tracing::warn!(dir = %dir.display(), error = %e, "no templates directory");
                Vec::new()
            });
        for entry in entries {
            let file = entry.path().join("index.yaml");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            match Template::parse(&text) {
                Ok(t) => {
                    by_id.insert(t.name.clone(), Arc::new(t));
                }
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "skipping a template that does not parse")
                }
            }
        }
        Templates {
            by_id: Arc::new(by_id),
        }
    }

    /// One template.
    pub fn get(&self, id: &str) -> Option<Arc<Template>> {
        self.by_id.get(id).cloned()
    }

    /// All templates' summaries.
    pub fn list(&self) -> Vec<TemplateInfo> {
        self.by_id.values().map(|t| info(t)).collect()
    }

    /// A template's summary with its inputs.
    pub fn info(&self, id: &str) -> Option<TemplateInfo> {
        self.by_id.get(id).map(|t| info(t))
    }
}

fn info(t: &Template) -> TemplateInfo {
    TemplateInfo {
        id: t.name.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        icon: t.icon.clone(),
        categories: t.categories.clone(),
        inputs: t.inputs.iter().map(InputInfo::from).collect(),
    }
}
