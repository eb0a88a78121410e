//! The service: everything Berth does, once. The REST handlers (`http::api`) and the UI's server
//! functions (through [`app::service::Berth`], implemented in `berth.rs`) are thin callers of it.
//!
//! Every create, change, rollback and delete goes the same way: validate and plan (pure, in
//! `plan`), resolve kinds and dry-run against the cluster, then record the revision and run it in
//! the background (`run.rs`), reporting progress to subscribers. Reads come from the store and
//! from the health watches.
//!
//! - `create.rs`: deploying a template;
//! - `change.rs`: previewing and applying change sets, rolling back;
//! - `finish.rs`: recording how an operation ended (or that it panicked);
//! - `drain.rs`: cancelling an operation, and draining them all at shutdown;
//! - `previewed.rs`: a preview's work, kept for its confirmation;
//! - `record.rs`: an operation's results, written, then told;
//! - `run.rs`: the one record-then-run path, deletes, and live operations;
//! - `view.rs`: an instance with its components' live health;
//! - `live.rs`: the live-update stream of one instance;
//! - `logs.rs`: an instance's Kubernetes Events, and its pods' logs as a live stream;
//! - `intent.rs`: the change box (the parser, then the language model if one is configured);
//! - `render.rs`: rendering a template for an instance;
//! - `redact.rs`: what counts as secret, and how it is hidden;
//! - `berth.rs`: the [`app::service::Berth`] trait over all of it.

mod berth;
mod catalog;
mod change;
mod create;
mod drain;
pub mod error;
mod finish;
pub mod intent;
mod live;
mod locks;
mod logs;
mod own;
mod previewed;
mod record;
mod redact;
mod render;
mod replicas;
mod run;
pub mod spec;
mod view;
mod yaml_edit;

use app::model::{RevisionDiff, RevisionRecord, RevisionSummary, TemplateInfo};

pub use error::{Error, Result};
pub use logs::{LogItem, LogQuery};
pub use render::Platform;
pub use run::Operations;

use crate::{
    apply::{Applier, Limits, NamespaceGrant},
    health::{events::Events, watch::Watches},
    kube::{Cluster, Discovery},
    llm::Llm,
    manifest,
    store::Store,
    templates::Templates,
};

/// Logs (at debug level) how long an operation has taken so far, at one of its phases.
fn phase(started: std::time::Instant, phase: &str) {
    tracing::debug!(ms = started.elapsed().as_secs_f64() * 1000.0, "{phase}");
}

/// The service. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Service {
    store: Store,
    templates: Templates,
    platform: Platform,
    cluster: Cluster,
    discovery: Option<Discovery>,
    watches: Option<Watches>,
    events: Option<Events>,
    /// Whether TLS Secrets exist, and when that was read (`view.rs`).
    tls_seen: std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, bool)>>,
    >,
    ops: Operations,
    namespaces: locks::NamespaceLocks,
    previews: previewed::Previews,
    llm: Option<std::sync::Arc<Llm>>,
    limits: Limits,
    grant: Option<NamespaceGrant>,
    /// This process's id among replicas sharing a PostgreSQL (16 hex digits, new each start).
    replica: std::sync::Arc<str>,
}

impl Service {
    /// A service over its parts. With `watch`, health watches start when the cluster has a
    /// client (tests of the apply path against a scripted apiserver leave them off).
    pub fn new(
        store: Store,
        templates: Templates,
        platform: Platform,
        cluster: Cluster,
        watch: bool,
    ) -> Service {
        let client = cluster.client().ok().cloned();
        let watches = cluster
            .watch_client()
            .filter(|_| watch)
            .map(|c| Watches::start(c.clone(), store.installation()));
        let events = watches
            .as_ref()
            .zip(cluster.watch_client())
            .map(|(w, c)| Events::new(c.clone(), w.clone()));
        Service {
            store,
            templates,
            platform,
            cluster,
            discovery: client.map(Discovery::new),
            watches,
            events,
            tls_seen: Default::default(),
            ops: Operations::default(),
            namespaces: Default::default(),
            previews: Default::default(),
            llm: None,
            limits: Limits::default(),
            grant: None,
            replica: hex::encode(rand::random::<[u8; 8]>()).into(),
        }
    }

    /// The same service with other time limits for its operations.
    pub fn with_limits(mut self, limits: Limits) -> Service {
        self.limits = limits;
        self
    }

    /// The same service, binding `grant`'s role to itself in each namespace it deploys into
    /// (installed in a cluster with least privilege).
    pub fn with_grant(mut self, grant: Option<NamespaceGrant>) -> Service {
        self.grant = grant;
        self
    }

    /// The same service, asking `llm` when the change box's parser matches nothing.
    pub fn with_llm(mut self, llm: Llm) -> Service {
        self.llm = Some(std::sync::Arc::new(llm));
        self
    }

    /// Whether a language model is configured.
    pub fn has_llm(&self) -> bool {
        self.llm.is_some()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The cluster connection.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The health watches, when they run.
    pub fn watches(&self) -> Option<&Watches> {
        self.watches.as_ref()
    }

    fn applier(&self) -> Result<Applier> {
        match (&self.discovery, self.cluster.client()) {
            (Some(d), _) => Ok(Applier::new(d.clone(), self.store.installation())
                .with_limits(self.limits)
                .with_grant(self.grant.clone())),
            (None, Err(reason)) => Err(Error::NoCluster(reason.to_string())),
            (None, Ok(_)) => Err(Error::NoCluster("no discovery".into())),
        }
    }

    /// Every template's summary, in id order.
    pub fn template_list(&self) -> Vec<TemplateInfo> {
        self.templates.list()
    }

    /// One template with its inputs.
    pub fn template_info(&self, id: &str) -> Result<TemplateInfo> {
        self.templates
            .info(id)
            .ok_or_else(|| Error::NotFound(format!("template {id}")))
    }

    /// The instance's revisions, oldest first.
    pub async fn revisions(&self, namespace: &str, name: &str) -> Result<Vec<RevisionSummary>> {
        Ok(self.store.revisions(namespace, name).await?)
    }

    /// One revision, redacted.
    pub async fn revision(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
    ) -> Result<RevisionRecord> {
        Ok(self.store.revision(namespace, name, number).await?)
    }

    /// The diff from revision `against` to revision `number` (both redacted).
    pub async fn diff(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
        against: i64,
    ) -> Result<RevisionDiff> {
        let to = self.store.revision(namespace, name, number).await?;
        let from = self.store.revision(namespace, name, against).await?;
        let diff = manifest::unified_diff(
            &from.manifests,
            &to.manifests,
            &format!("revision-{against}"),
            &format!("revision-{number}"),
        );
        Ok(RevisionDiff {
            from: against,
            to: number,
            diff,
        })
    }
}
