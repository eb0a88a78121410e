//! Berth's own rights in a namespace it deploys into. Installed in a cluster with least
//! privilege (`manifests/berth/index.yaml`), Berth may manage objects only in namespaces where
//! its ServiceAccount is bound to the namespace role; its cluster role lets it create that one
//! RoleBinding (`bind` on that one role). So it binds itself where it deploys, and can read
//! Secrets nowhere else. Run from a laptop with an admin kubeconfig, no grant is configured and
//! none is made.

use k8s_openapi::api::{
    authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec},
    rbac::v1::RoleBinding,
};
use kube::{
    Api,
    api::{DeleteParams, Patch, PatchParams, PostParams},
};
use serde_json::json;

use super::Applier;
use crate::kube::{FIELD_MANAGER, INSTALLATION_LABEL, MANAGED_BY};

/// The role Berth binds to its own ServiceAccount in each namespace it deploys into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceGrant {
    /// The ClusterRole (`<install>-namespace`).
    pub role: String,
    /// Berth's ServiceAccount: its namespace and name.
    pub service_account: (String, String),
}

impl NamespaceGrant {
    /// A grant of `role` to the ServiceAccount named as `namespace/name`.
    pub fn parse(role: &str, service_account: &str) -> Result<NamespaceGrant, String> {
        let (ns, name) = service_account
            .split_once('/')
            .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
            .ok_or_else(|| {
                format!("the service account must be `namespace/name`, not {service_account:?}")
            })?;
        if role.is_empty() {
            return Err("the namespace role is empty".into());
        }
        Ok(NamespaceGrant {
            role: role.to_string(),
            service_account: (ns.to_string(), name.to_string()),
        })
    }
}

impl Applier {
    /// Binds the namespace role to Berth in `namespace`, unless it is bound already (or no grant
    /// is configured). Returns whether it made the binding.
    pub async fn grant_namespace(&self, namespace: &str) -> Result<bool, kube::Error> {
        let Some(grant) = &self.grant else {
            return Ok(false);
        };
        let api: Api<RoleBinding> = Api::namespaced(self.client().clone(), namespace);
        if api.get_opt(&grant.role).await?.is_some() {
            return Ok(false);
        }
        let (sa_namespace, sa_name) = &grant.service_account;
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": grant.role, "namespace": namespace,
                "labels": {MANAGED_BY.0: MANAGED_BY.1, INSTALLATION_LABEL: &*self.installation}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": grant.role},
            "subjects": [{"kind": "ServiceAccount", "name": sa_name, "namespace": sa_namespace}]
        });
        api.patch(
            &grant.role,
            &PatchParams::apply(FIELD_MANAGER),
            &Patch::Apply(&binding),
        )
        .await?;
        self.until_granted(namespace).await;
        Ok(true)
    }

    /// Waits (a few seconds at most) until the apiserver's authorizer has seen the new binding:
    /// it reads bindings from a cache, and a dry run at once could still be refused.
    async fn until_granted(&self, namespace: &str) {
        let reviews: Api<SelfSubjectAccessReview> = Api::all(self.client().clone());
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(namespace.to_string()),
                    verb: Some("patch".into()),
                    resource: Some("secrets".into()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        for _ in 0..50 {
            let allowed = reviews
                .create(&PostParams::default(), &review)
                .await
                .ok()
                .and_then(|r| r.status)
                .is_some_and(|s| s.allowed);
            if allowed {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        tracing::warn!(%namespace, "Berth's binding there did not take effect within 5 s");
    }

    /// Removes the binding [`Applier::grant_namespace`] made (a refused create leaves nothing).
    pub async fn revoke_namespace(&self, namespace: &str) -> Result<(), kube::Error> {
        let Some(grant) = &self.grant else {
            return Ok(());
        };
        let api: Api<RoleBinding> = Api::namespaced(self.client().clone(), namespace);
        api.delete(&grant.role, &DeleteParams::default()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_names_its_service_account_as_namespace_slash_name() {
        let g = NamespaceGrant::parse("berth-namespace", "berth-system/berth").unwrap();
        assert_eq!(g.service_account, ("berth-system".into(), "berth".into()));
        assert!(NamespaceGrant::parse("r", "berth").is_err());
        assert!(NamespaceGrant::parse("r", "/berth").is_err());
        assert!(NamespaceGrant::parse("", "a/b").is_err());
    }
}
