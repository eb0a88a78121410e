//! One server-side apply (or its dry run) of a resolved object, as Berth sends it. The object is
//! serialised once, when it is resolved, and the same bytes go out for the dry run and the apply.
//! Of the apiserver's answer (the whole object, with its managed fields) only the
//! resourceVersion is read: the rest is skipped as it is parsed, never built.

use kube::{
    Resource,
    api::{DynamicObject, Patch, PatchParams},
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Applier, Resolved};

/// An object serialised for sending. It fails as a request kube could not build would.
pub(super) fn body(object: &serde_json::Value) -> Result<Box<RawValue>, kube::Error> {
    serde_json::value::to_raw_value(object)
        .map_err(|e| kube::Error::BuildRequest(kube::core::request::Error::SerializeBody(e)))
}

/// What Berth reads of an answer.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    metadata: AnswerMeta,
}

#[derive(Deserialize, Default)]
struct AnswerMeta {
    #[serde(rename = "resourceVersion", default)]
    resource_version: Option<String>,
}

impl Applier {
    /// Sends `r` as a server-side apply with `params`, and returns the resourceVersion the
    /// object has after it (none for a dry-run create). A refusal is the same
    /// [`kube::Error`] as `Api::patch` gives.
    pub(super) async fn send(
        &self,
        r: &Resolved,
        namespace: &str,
        params: &PatchParams,
    ) -> Result<Option<String>, kube::Error> {
        let path = DynamicObject::url_path(&r.resource, r.namespaced.then_some(namespace));
        let mut request = kube::core::Request::new(path)
            .patch(&r.key.name, params, &Patch::Apply(&r.body))
            .map_err(kube::Error::BuildRequest)?;
        request.extensions_mut().insert("patch");
        let answer: Answer = self.client().request(request).await?;
        Ok(answer.metadata.resource_version.filter(|v| !v.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_for_its_resource_version_only() {
        let answer: Answer = serde_json::from_str(
            r#"{"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "resourceVersion": "42",
                    "managedFields": [{"manager": "berth", "fieldsV1": {"f:spec": {}}}]},
                "spec": {"replicas": 2}, "status": {}}"#,
        )
        .unwrap();
        assert_eq!(answer.metadata.resource_version.as_deref(), Some("42"));
        let created: Answer = serde_json::from_str(r#"{"metadata": {"name": "d"}}"#).unwrap();
        assert_eq!(created.metadata.resource_version, None);
    }

    #[test]
    fn the_body_is_the_object_as_json() {
        let object = serde_json::json!({"kind": "ConfigMap", "data": {"b": "1", "a": "2"}});
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(body(&object).unwrap().get()).unwrap(),
            object
        );
        // Sent verbatim: key order kept.
        assert_eq!(
            body(&object).unwrap().get(),
            r#"{"kind":"ConfigMap","data":{"b":"1","a":"2"}}"#
        );
    }
}
