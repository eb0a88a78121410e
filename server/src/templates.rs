//! The templates Berth offers: every `*/index.yaml` under the templates directory
//! (`manifests/` by default), parsed once at startup.

use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Arc, RwLock},
};

use app::model::{InputInfo, TemplateInfo};

use crate::template::Template;

fn input_info(i: &crate::template::InputDef) -> InputInfo {
    InputInfo {
        name: i.name.clone(),
        description: i.description.clone(),
        kind: i.kind.as_str().to_string(),
        default: i.default.clone(),
        required: i.required,
        options: i.options.clone(),
        condition: i.condition.clone(),
        pattern: i.pattern.clone(),
    }
}

/// Parsed templates by id: the directory's, then those imported since (shared by every clone).
#[derive(Clone, Default)]
pub struct Templates {
    by_id: Arc<RwLock<BTreeMap<String, Arc<Template>>>>,
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
            by_id: Arc::new(RwLock::new(by_id)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Template>>> {
        self.by_id
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One template.
    pub fn get(&self, id: &str) -> Option<Arc<Template>> {
        self.read().get(id).cloned()
    }

    /// All templates' summaries.
    pub fn list(&self) -> Vec<TemplateInfo> {
        self.read().values().map(|t| info(t)).collect()
    }

    /// A template's summary with its inputs.
    pub fn info(&self, id: &str) -> Option<TemplateInfo> {
        self.read().get(id).map(|t| info(t))
    }

    /// Adds a template; `false` (and nothing changes) when its id is taken.
    pub fn insert(&self, template: Template) -> bool {
        let mut all = self
            .by_id
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if all.contains_key(&template.name) {
            return false;
        }
        all.insert(template.name.clone(), Arc::new(template));
        true
    }
}

fn info(t: &Template) -> TemplateInfo {
    TemplateInfo {
        id: t.name.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        icon: t.icon.clone(),
        categories: t.categories.clone(),
        readme: t.readme.clone(),
        url: t.url.clone(),
        inputs: t.inputs.iter().map(input_info).collect(),
    }
}
