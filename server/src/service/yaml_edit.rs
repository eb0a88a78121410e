//! Editing one object's YAML: the edited text becomes an [`Edit::Manifest`], the merge patch
//! from the object as the current revision has it (as shown, secrets redacted, so an untouched
//! marker is no change). Checked as the change set will check it, so a bad edit is refused here,
//! at its line when the YAML does not parse.

use app::model::{Edit, ManifestEditRequest};
use serde_json::Value;

use super::{Error, Result, Service};
use crate::{plan::manifest_edit, template::TemplateError};

impl Service {
    /// One object of the instance's current revision as YAML (secrets redacted).
    pub async fn object_yaml(
        &self,
        namespace: &str,
        name: &str,
        kind: &str,
        object: &str,
    ) -> Result<String> {
        let (_, state) = self.current(namespace, name).await?;
        let shown = self.redacted(&state);
        let found = shown
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == object)
            .ok_or_else(|| Error::NotFound(format!("{kind} {object} in {namespace}/{name}")))?;
        serde_saphyr::to_string(found).map_err(|e| Error::Invalid(e.to_string()))
    }

    /// The edit that turns the object into `req.yaml`.
    pub async fn manifest_patch(
        &self,
        namespace: &str,
        name: &str,
        req: &ManifestEditRequest,
    ) -> Result<Edit> {
        let (_, state) = self.current(namespace, name).await?;
        let shown = self.redacted(&state);
        let key = &req.object;
        let old = shown
            .iter()
            .find(|o| o["kind"] == key.kind.as_str() && o["metadata"]["name"] == key.name.as_str())
            .ok_or_else(|| {
                Error::NotFound(format!("{} {} in {namespace}/{name}", key.kind, key.name))
            })?;
        let new: Value = serde_saphyr::from_str(&req.yaml).map_err(|e| {
            Error::Template(TemplateError::Yaml {
                line: e.location().map(|l| l.line() as usize).unwrap_or(1),
                message: e.to_string().lines().next().unwrap_or_default().to_string(),
            })
        })?;
        if !new.is_object() {
            return Err(Error::Template(TemplateError::Yaml {
                line: 1,
                message: "the object must be a mapping".into(),
            }));
        }
        let patch = manifest_edit::diff(old, &new)
            .ok_or_else(|| Error::Invalid("the YAML is unchanged".into()))?;
        let mut check = state.manifests.clone();
        manifest_edit::apply(&mut check, key, &patch)?;
        Ok(Edit::Manifest {
            object: key.clone(),
            merge_patch: patch,
        })
    }
}
