//! What a page loads from the server before it renders, as one kind of resource for every page.
//!
//! Leptos compiles a resource's machinery (its async state, its place in `Suspense`, the hand-over
//! of the server's value to the browser) once for each value and fetcher type. With a resource
//! per page, each of a different type, the browser bundle carried seven copies of it; here there
//! is one: every page asks for a [`Want`] and gets the matching variant of [`Data`].

use std::sync::Arc;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    api::{
        ClusterStatus, GetInstance, GetTemplate, K8sEvents, ListInstances, ListRevisions,
        ListTemplates, call,
    },
    error::{ErrorCode, ServiceError},
    model::{
        ClusterHealth, InstanceSummary, InstanceView, KubeEventList, RevisionSummary, TemplateInfo,
    },
};

/// What a page asks the server for.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    /// Every instance ([`ListInstances`]).
    Instances,
    /// One instance with its live health ([`GetInstance`]).
    Instance { namespace: String, name: String },
    /// An instance's revisions ([`ListRevisions`]).
    Revisions { namespace: String, name: String },
    /// One component's kept Kubernetes Events ([`K8sEvents`]).
    Events {
        namespace: String,
        name: String,
        component: String,
    },
    /// Every template ([`ListTemplates`]); a new `refresh` loads them again.
    Templates { refresh: u32 },
    /// One template with its inputs ([`GetTemplate`]).
    Template { id: String },
    /// Whether the cluster answers ([`ClusterStatus`]), checked again for each `path`.
    Cluster { path: String },
}

/// What the server answered, one variant per [`Want`].
// One value per page load, moved a few times: boxing the instance would save no memory worth a
// second allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Data {
    Instances(Vec<InstanceSummary>),
    Instance(Option<InstanceView>),
    Revisions(Vec<RevisionSummary>),
    Events(KubeEventList),
    Templates(Vec<TemplateInfo>),
    Template(TemplateInfo),
    Cluster(ClusterHealth),
}

/// A page's data, loaded on the server with the page and handed to the browser with it.
pub type Load = Resource<Result<Data, ServiceError>>;

/// Loads what `want` names, again whenever it names something else.
pub fn load(want: impl Fn() -> Want + Send + Sync + 'static) -> Load {
    // One closure type for every page, so the resource is compiled once.
    let want: Arc<dyn Fn() -> Want + Send + Sync> = Arc::new(want);
    Resource::new(move || want(), fetch)
}

async fn fetch(want: Want) -> Result<Data, ServiceError> {
    Ok(match want {
        Want::Instances => Data::Instances(call(ListInstances {}).await?),
        Want::Instance { namespace, name } => {
            Data::Instance(call(GetInstance { namespace, name }).await?)
        }
        Want::Revisions { namespace, name } => {
            Data::Revisions(call(ListRevisions { namespace, name }).await?)
        }
        Want::Events {
            namespace,
            name,
            component,
        } => Data::Events(
            call(K8sEvents {
                namespace,
                name,
                component,
            })
            .await?,
        ),
        Want::Templates { .. } => Data::Templates(call(ListTemplates {}).await?),
        Want::Template { id } => Data::Template(call(GetTemplate { id }).await?),
        Want::Cluster { .. } => Data::Cluster(call(ClusterStatus {}).await?),
    })
}

impl Data {
    pub fn instances(self) -> Result<Vec<InstanceSummary>, ServiceError> {
        match self {
            Data::Instances(list) => Ok(list),
            other => Err(other.mismatch()),
        }
    }

    pub fn instance(self) -> Result<Option<InstanceView>, ServiceError> {
        match self {
            Data::Instance(view) => Ok(view),
            other => Err(other.mismatch()),
        }
    }

    pub fn revisions(self) -> Result<Vec<RevisionSummary>, ServiceError> {
        match self {
            Data::Revisions(list) => Ok(list),
            other => Err(other.mismatch()),
        }
    }

    pub fn events(self) -> Result<KubeEventList, ServiceError> {
        match self {
            Data::Events(list) => Ok(list),
            other => Err(other.mismatch()),
        }
    }

    pub fn templates(self) -> Result<Vec<TemplateInfo>, ServiceError> {
        match self {
            Data::Templates(list) => Ok(list),
            other => Err(other.mismatch()),
        }
    }

    pub fn template(self) -> Result<TemplateInfo, ServiceError> {
        match self {
            Data::Template(t) => Ok(t),
            other => Err(other.mismatch()),
        }
    }

    pub fn cluster(self) -> Result<ClusterHealth, ServiceError> {
        match self {
            Data::Cluster(health) => Ok(health),
            other => Err(other.mismatch()),
        }
    }

    /// A page read another page's data: a bug in Berth, reported rather than hidden.
    fn mismatch(&self) -> ServiceError {
        let got = match self {
            Data::Instances(_) => "instances",
            Data::Instance(_) => "an instance",
            Data::Revisions(_) => "revisions",
            Data::Events(_) => "events",
            Data::Templates(_) => "templates",
            Data::Template(_) => "a template",
            Data::Cluster(_) => "the cluster's health",
        };
        ServiceError::new(
            ErrorCode::Internal,
            format!("the page loaded {got}, not what it shows"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_reads_its_own_data_and_a_mismatch_is_an_internal_error() {
        let list = Data::Instances(Vec::new());
        assert!(list.clone().instances().unwrap().is_empty());
        let err = list.template().unwrap_err();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(err.message.contains("instances"), "{}", err.message);
    }

    #[test]
    fn the_data_survives_the_hand_over_to_the_browser() {
        // The server writes the resource into the page as JSON; the browser reads it back.
        let sent = Data::Instance(None);
        let text = serde_json::to_string(&sent).unwrap();
        let back: Data = serde_json::from_str(&text).unwrap();
        assert!(back.instance().unwrap().is_none());
    }
}
