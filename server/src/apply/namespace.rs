//! The namespace a create deploys into: whether it exists, making it when it does not, and
//! removing one Berth made for a create the apiserver then refused. An existing namespace is
//! never labelled or patched.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api,
    api::{DynamicObject, ObjectMeta, PostParams},
    core::ApiResource,
};

use super::{Applier, delete::background};
use crate::kube::{FIELD_MANAGER, INSTALLATION_LABEL, MANAGED_BY};

impl Applier {
    /// Whether the namespace exists.
    pub async fn namespace_exists(&self, namespace: &str) -> Result<bool, kube::Error> {
        let api: Api<Namespace> = Api::all(self.client().clone());
        Ok(api.get_opt(namespace).await?.is_some())
    }

    /// Creates the namespace unless it exists; an existing one is never labelled or patched.
    /// Returns whether it was created.
    pub async fn create_namespace(&self, namespace: &str) -> Result<bool, kube::Error> {
        if self.namespace_exists(namespace).await? {
            return Ok(false);
        }
        self.make_namespace(namespace).await
    }

    /// Makes the namespace, which a lookup just found missing. Returns whether this call made it:
    /// one made meanwhile by another client is left as it is.
    pub async fn make_namespace(&self, namespace: &str) -> Result<bool, kube::Error> {
        let api: Api<Namespace> = Api::all(self.client().clone());
        let labels = [
            (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
            (
                INSTALLATION_LABEL.to_string(),
                self.installation.to_string(),
            ),
        ];
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(namespace.to_string()),
                labels: Some(labels.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        // A create, not an apply: of two clients making the namespace at once (two replicas, or
        // two Berths), exactly one hears that it made it; the other hears it exists.
        match api
            .create(
                &PostParams {
                    field_manager: Some(FIELD_MANAGER.into()),
                    ..Default::default()
                },
                &ns,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes a namespace Berth just created for a create the apiserver then refused, and
    /// waits (up to 30 s) until it is gone, so the same request can be sent again at once.
    pub async fn remove_namespace(&self, namespace: &str) -> Result<(), kube::Error> {
        let api: Api<DynamicObject> =
            Api::all_with(self.client().clone(), &ApiResource::erase::<Namespace>(&()));
        self.delete_and_wait(&api, namespace, &background(), Duration::from_secs(30))
            .await
    }
}
