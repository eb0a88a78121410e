//! The catalog's imports: a template pasted or uploaded is checked the way
//! `berth template check` checks a file (its first problem named at its line), stored in SQLite,
//! and offered at once; stored imports are offered again after a restart.

use app::model::TemplateInfo;

use super::{Error, Result, Service};
use crate::template::check;

impl Service {
    /// Checks and stores `source` as a new template; its id must be new.
    pub async fn import_template(&self, source: &str, actor: &str) -> Result<TemplateInfo> {
        let (template, _) = check::check(source, false).map_err(|f| Error::Template(f.error))?;
        let id = template.name.clone();
        if self.templates.get(&id).is_some() {
            return Err(Error::Exists(format!("template {id}")));
        }
        self.store.add_template(&id, source, actor).await?;
        self.templates.insert(template);
        tracing::info!(template = %id, by = actor, "imported a template");
        self.templates
            .info(&id)
            .ok_or_else(|| Error::NotFound(format!("template {id}")))
    }

    /// Offers the templates imported before this start (one that no longer parses is skipped
    /// with a warning, and one whose id the templates directory now has is left to it).
    pub async fn load_imported_templates(&self) -> Result<usize> {
        let mut loaded = 0;
        for (id, source) in self.store.imported_templates().await? {
            match crate::template::Template::parse(&source).map(|t| self.templates.insert(t)) {
                Ok(true) => loaded += 1,
                Ok(false) => {
                    tracing::warn!(template = %id, "an imported template has the id of one in the templates directory; keeping the directory's")
                }
                Err(e) => {
                    tracing::warn!(template = %id, error = %e, "skipping an imported template that no longer parses")
                }
            }
        }
        Ok(loaded)
    }
}
