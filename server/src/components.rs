//! From rendered objects to the components the UI shows as cards, and the edges between them.
//!
//! A component is anchored on a *primary* object: a workload (Deployment, StatefulSet,
//! DaemonSet, CronJob), a KubeBlocks `Cluster`, an `ObjectStorageBucket`, an `Ingress` or a Sealos
//! `App`. Every other object joins one: a Service the workload its selector matches, a Job the
//! component its name extends (`<app>-pg-init` joins `<app>-pg`), a ConfigMap, Secret or volume
//! claim the component that references it. The annotation `berth.dev/component: <id>` puts an
//! object in a named component explicitly; `berth.dev/card` overrides the card kind.
//!
//! Dependencies are read from what a component's objects refer to: Service host names, Secret
//! and ConfigMap names (including those an operator creates, such as KubeBlocks'
//! `<cluster>-conn-credential`), and the content of configuration it mounts. Configuration owned by
//! an app component is treated as shared settings: reading it is not a dependency on that app.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use app::model::{CardKind, Component, ObjectRef};
use serde_json::Value;

use crate::kube::{CARD_ANNOTATION, COMPONENT_KEY, str_at};

/// Derives the components of a rendered template. `app_name` is the instance name
/// (`defaults.app_name`), which prefixes the object names.
pub fn derive(objects: &[Value], app_name: &str) -> Vec<Component> {
    Deriver::new(objects, app_name).run()
}

struct Obj<'a> {
    value: &'a Value,
    r: ObjectRef,
}

impl Obj<'_> {
    fn annotation(&self, key: &str) -> Option<&str> {
        self.value
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    }
    fn is_primary(&self) -> bool {
        let group = self.r.api_version.split('/').next().unwrap_or_default();
        crate::kube::is_workload(&self.r.kind)
            || matches!(
                (group, self.r.kind.as_str()),
                ("apps.kubeblocks.io", "Cluster")
                    | ("objectstorage.sealos.io", "ObjectStorageBucket")
                    | (_, "Ingress")
                    | ("app.sealos.io", "App")
            )
    }
    fn pod_spec(&self) -> Option<&Value> {
        match self.r.kind.as_str() {
            "CronJob" => self.value.pointer("/spec/jobTemplate/spec/template/spec"),
            "Pod" => self.value.get("spec"),
            _ => self.value.pointer("/spec/template/spec"),
        }
    }
}

struct Deriver<'a> {
    objs: Vec<Obj<'a>>,
    /// What each object's spec names (see [`referenced_names`]), by index.
    refs: Vec<BTreeSet<&'a str>>,
    app_name: &'a str,
    /// component id of each object, by index
    owner: Vec<Option<String>>,
    /// primary object index of each component id, in order of appearance
    primaries: Vec<(String, usize)>,
}

impl<'a> Deriver<'a> {
    fn new(values: &'a [Value], app_name: &'a str) -> Deriver<'a> {
        let objs: Vec<Obj<'a>> = values
            .iter()
            .map(|v| Obj {
                value: v,
                r: ObjectRef {
                    api_version: str_at(v, "/apiVersion").to_string(),
                    kind: str_at(v, "/kind").to_string(),
                    name: str_at(v, "/metadata/name").to_string(),
                },
            })
            .collect();
        let n = objs.len();
        Deriver {
            refs: values.iter().map(referenced_names).collect(),
            objs,
            app_name,
            owner: vec![None; n],
            primaries: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<Component> {
        self.assign_primaries();
        self.assign_annotated();
        self.assign_services();
        self.assign_by_name_prefix(|kind| kind == "Job");
        self.assign_by_name_prefix(|kind| {
            matches!(kind, "ServiceAccount" | "Role" | "RoleBinding")
        });
        self.assign_referenced_config();
        self.assign_by_name_prefix(|_| true);
        self.assign_leftovers();
        self.build()
    }

    /// The id a primary object gets when it is not annotated.
    fn default_id(&self, o: &Obj) -> String {
        match o.r.kind.as_str() {
            "Ingress" => return "ingress".into(),
            "App" => return "app".into(),
            "ObjectStorageBucket" if o.r.name == self.app_name => return "storage".into(),
            _ => {}
        }
        match o.r.name.strip_prefix(self.app_name) {
            Some("") => "main".into(),
            Some(rest) if rest.starts_with('-') => rest[1..].to_string(),
            _ => o.r.name.clone(),
        }
    }

    fn assign_primaries(&mut self) {
        for i in 0..self.objs.len() {
            if !self.objs[i].is_primary() {
                continue;
            }
            let id = self.objs[i]
                .annotation(COMPONENT_KEY)
                .map(str::to_string)
                .unwrap_or_else(|| self.default_id(&self.objs[i]));
            if !self.primaries.iter().any(|(p, _)| p == &id) {
                self.primaries.push((id.clone(), i));
            }
            self.owner[i] = Some(id);
        }
    }

    fn assign_annotated(&mut self) {
        for i in 0..self.objs.len() {
            if self.owner[i].is_none()
                && let Some(id) = self.objs[i].annotation(COMPONENT_KEY)
            {
                self.owner[i] = Some(id.to_string());
                if !self.primaries.iter().any(|(p, _)| p == id) {
                    self.primaries.push((id.to_string(), i));
                }
            }
        }
    }

    fn assign_services(&mut self) {
        for i in 0..self.objs.len() {
            if self.owner[i].is_some() || self.objs[i].r.kind != "Service" {
                continue;
            }
            let Some(selector) = self.objs[i]
                .value
                .pointer("/spec/selector")
                .and_then(Value::as_object)
            else {
                continue;
            };
            if selector.is_empty() {
                continue;
            }
            let found = self.objs.iter().enumerate().find(|(j, o)| {
                self.owner[*j].is_some()
                    && o.value
                        .pointer("/spec/template/metadata/labels")
                        .and_then(Value::as_object)
                        .is_some_and(|labels| {
                            selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                        })
            });
            if let Some((j, _)) = found {
                self.owner[i] = self.owner[j].clone();
            }
        }
    }

    /// Joins unowned objects of the given kinds to the component whose primary's name is the
    /// longest `<name>-` prefix of theirs (or equal to it).
    fn assign_by_name_prefix(&mut self, kinds: impl Fn(&str) -> bool) {
        for i in 0..self.objs.len() {
            if self.owner[i].is_some() || !kinds(&self.objs[i].r.kind) {
                continue;
            }
            let name = &self.objs[i].r.name;
            let best = self
                .primaries
                .iter()
                .map(|(id, p)| (id, &self.objs[*p].r.name))
                .filter(|(_, pname)| name == *pname || name.starts_with(&format!("{pname}-")))
                .max_by_key(|(_, pname)| pname.len());
            if let Some((id, _)) = best {
                self.owner[i] = Some(id.clone());
            }
        }
    }

    /// A ConfigMap, Secret or volume claim joins the component that references it; when several
    /// do, the one whose name is its longest prefix, else the first.
    fn assign_referenced_config(&mut self) {
        for i in 0..self.objs.len() {
            if self.owner[i].is_some()
                || !matches!(
                    self.objs[i].r.kind.as_str(),
                    "ConfigMap" | "Secret" | "PersistentVolumeClaim"
                )
            {
                continue;
            }
            let name = self.objs[i].r.name.clone();
            let mut referrers: Vec<String> = Vec::new();
            for j in 0..self.objs.len() {
                if let Some(owner) = &self.owner[j]
                    && self.refs[j].contains(name.as_str())
                    && !referrers.contains(owner)
                {
                    referrers.push(owner.clone());
                }
            }
            let by_prefix = referrers
                .iter()
                .filter_map(|id| self.primary_name(id).map(|p| (id, p)))
                .filter(|(_, p)| name.starts_with(&format!("{p}-")))
                .max_by_key(|(_, p)| p.len())
                .map(|(id, _)| id.clone());
            self.owner[i] = by_prefix.or_else(|| referrers.first().cloned());
        }
    }

    fn assign_leftovers(&mut self) {
        for i in 0..self.objs.len() {
            if self.owner[i].is_none() {
                let id = self.default_id(&self.objs[i]);
                if !self.primaries.iter().any(|(p, _)| p == &id) {
                    self.primaries.push((id.clone(), i));
                }
                self.owner[i] = Some(id);
            }
        }
    }

    fn primary_name(&self, id: &str) -> Option<&str> {
        self.primaries
            .iter()
            .find(|(p, _)| p == id)
            .map(|(_, i)| self.objs[*i].r.name.as_str())
    }

    fn card(&self, id: &str, primary: &Obj) -> CardKind {
        let annotated = self
            .objs
            .iter()
            .zip(&self.owner)
            .filter(|(_, o)| o.as_deref() == Some(id))
            .find_map(|(o, _)| o.annotation(CARD_ANNOTATION));
        match annotated {
            Some("database") => return CardKind::Database,
            Some("queue") => return CardKind::Queue,
            Some("storage") => return CardKind::Storage,
            Some("network") => return CardKind::Network,
            Some("app") => return CardKind::App,
            _ => {}
        }
        match primary.r.kind.as_str() {
            "Cluster" => return CardKind::Database,
            "ObjectStorageBucket" => return CardKind::Storage,
            "Ingress" | "App" => return CardKind::Network,
            _ => {}
        }
        let images: Vec<&str> = primary
            .pod_spec()
            .and_then(|s| s.get("containers"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("image").and_then(Value::as_str))
            .collect();
        let image_has = |words: &[&str]| {
            images
                .iter()
                .any(|img| words.iter().any(|w| image_name(img).contains(w)))
        };
        if image_has(&[
            "postgres",
            "mysql",
            "mariadb",
            "mongo",
            "redis",
            "clickhouse",
            "elasticsearch",
            "opensearch",
            "valkey",
            "milvus",
            "qdrant",
        ]) {
            CardKind::Database
        } else if image_has(&[
            "kafka",
            "redpanda",
            "zookeeper",
            "rabbitmq",
            "nats",
            "pulsar",
        ]) {
            CardKind::Queue
        } else if image_has(&["minio", "seaweedfs"]) {
            CardKind::Storage
        } else {
            CardKind::App
        }
    }

    fn build(self) -> Vec<Component> {
        let ids: Vec<String> = self.primaries.iter().map(|(id, _)| id.clone()).collect();
        let members = |id: &str| -> Vec<usize> {
            (0..self.objs.len())
                .filter(|&i| self.owner[i].as_deref() == Some(id))
                .collect()
        };

        // Names other components can refer to, and who provides them.
        let mut provided: HashMap<String, String> = HashMap::new();
        let mut hosts: BTreeSet<String> = BTreeSet::new();
        for id in &ids {
            for i in members(id) {
                let o = &self.objs[i];
                match o.r.kind.as_str() {
                    "Service" | "Secret" | "ConfigMap" | "PersistentVolumeClaim" => {
                        provided.insert(o.r.name.clone(), id.clone());
                    }
                    "Cluster" => {
                        provided.insert(format!("{}-conn-credential", o.r.name), id.clone());
                        for spec in o
                            .value
                            .pointer("/spec/componentSpecs")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if let Some(c) = spec.get("name").and_then(Value::as_str) {
                                provided.insert(format!("{}-{c}", o.r.name), id.clone());
                                provided.insert(
                                    format!("{}-{c}-account-default", o.r.name),
                                    id.clone(),
                                );
                            }
                        }
                    }
                    "ObjectStorageBucket" => {
                        provided.insert(format!("bucket:{}", o.r.name), id.clone());
                    }
                    "Ingress" => {
                        for rule in o
                            .value
                            .pointer("/spec/rules")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if let Some(h) = rule.get("host").and_then(Value::as_str) {
                                hosts.insert(h.to_string());
                                provided.insert(format!("host:{h}"), id.clone());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let buckets: Vec<(String, String)> = provided
            .iter()
            .filter_map(|(k, id)| {
                k.strip_prefix("bucket:")
                    .map(|b| (b.to_string(), id.clone()))
            })
            .collect();

        // Whether a Secret or ConfigMap name (the first object of that name) is configuration
        // an app component owns.
        let mut cards: HashMap<&str, CardKind> = HashMap::new();
        let mut app_config: HashMap<&str, bool> = HashMap::new();
        for (o, owner) in self.objs.iter().zip(&self.owner) {
            if !matches!(o.r.kind.as_str(), "Secret" | "ConfigMap")
                || app_config.contains_key(o.r.name.as_str())
            {
                continue;
            }
            let is_app = owner.as_deref().is_some_and(|owner| {
                *cards.entry(owner).or_insert_with(|| self.card_of(owner)) == CardKind::App
            });
            app_config.insert(o.r.name.as_str(), is_app);
        }

        let mut components = Vec::new();
        for id in &ids {
            let member_idx = members(id);
            let mut texts: Vec<&str> = Vec::new();
            let mut reads_app_host = false;
            for &i in &member_idx {
                let o = &self.objs[i];
                collect_spec_strings(o.value, o.r.kind == "Secret", &mut texts);
                reads_app_host |= o.r.kind == "App";
                // Shared settings it mounts from an app component: read their content here.
                for (j, c) in self.objs.iter().enumerate() {
                    if c.r.kind == "ConfigMap"
                        && self.owner[j].as_deref() != Some(id)
                        && self.refs[i].contains(c.r.name.as_str())
                    {
                        collect_spec_strings(c.value, false, &mut texts);
                    }
                }
            }
            let mut deps: BTreeSet<String> = BTreeSet::new();
            for text in texts {
                for token in tokens(text) {
                    if hosts.contains(token) {
                        if reads_app_host && let Some(p) = provided.get(&format!("host:{token}")) {
                            deps.insert(p.clone());
                        }
                        continue;
                    }
                    let first = token.split('.').next().unwrap_or(token);
                    for candidate in [token, first] {
                        if let Some(p) = provided.get(candidate)
                            && !app_config.get(candidate).copied().unwrap_or(false)
                        {
                            deps.insert(p.clone());
                        }
                        if let Some(rest) = candidate.strip_prefix("object-storage-key") {
                            for (bucket, p) in &buckets {
                                if rest.is_empty() || rest.ends_with(&format!("-{bucket}")) {
                                    deps.insert(p.clone());
                                }
                            }
                        }
                    }
                }
            }
            deps.remove(id);
            let primary_idx = self
                .primaries
                .iter()
                .find(|(p, _)| p == id)
                .map(|(_, i)| *i)
                .unwrap_or(member_idx[0]);
            let primary = &self.objs[primary_idx];
            let mut objects = vec![primary.r.clone()];
            objects.extend(
                member_idx
                    .iter()
                    .filter(|&&i| i != primary_idx)
                    .map(|&i| self.objs[i].r.clone()),
            );
            components.push(Component {
                id: id.clone(),
                card: self.card(id, primary),
                primary: primary.r.clone(),
                objects,
                depends_on: deps.into_iter().collect(),
            });
        }
        components
    }

    fn card_of(&self, id: &str) -> CardKind {
        self.primaries
            .iter()
            .find(|(p, _)| p == id)
            .map(|(_, i)| self.card(id, &self.objs[*i]))
            .unwrap_or(CardKind::App)
    }
}

/// The names an object's spec gives under `name`, `claimName` or `secretName`, at any depth: the
/// ConfigMaps, Secrets and claims it refers to (volumes, envFrom, env, ...), among other names.
fn referenced_names(o: &Value) -> BTreeSet<&str> {
    fn walk<'v>(v: &'v Value, out: &mut BTreeSet<&'v str>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if matches!(k.as_str(), "name" | "claimName" | "secretName")
                        && let Some(name) = v.as_str()
                    {
                        out.insert(name);
                    }
                    walk(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    if let Some(spec) = o.get("spec") {
        walk(spec, &mut out);
    }
    out
}

/// Every string under the object's content, skipping metadata (names, labels and annotations at
/// any depth, such as a pod template's) and label selectors, which name nothing they depend on;
/// and Secret values when asked.
fn collect_spec_strings<'v>(v: &'v Value, skip_values: bool, out: &mut Vec<&'v str>) {
    fn walk<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            Value::Object(m) => {
                for (k, v) in m {
                    if !matches!(k.as_str(), "metadata" | "selector" | "matchLabels") {
                        walk(v, out);
                    }
                }
            }
            _ => {}
        }
    }
    if let Value::Object(m) = v {
        for (k, v) in m {
            let skip = matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status")
                || (skip_values && matches!(k.as_str(), "data" | "stringData"));
            if !skip {
                walk(v, out);
            }
        }
    }
}

/// Maximal runs of DNS-name characters in a string.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty())
}

/// The repository part of an image reference, without registry host or tag.
fn image_name(image: &str) -> &str {
    let no_tag = image.split('@').next().unwrap_or(image);
    let last = no_tag.rsplit('/').next().unwrap_or(no_tag);
    last.split(':').next().unwrap_or(last)
}

/// Components by id, for lookups.
pub fn by_id(components: &[Component]) -> BTreeMap<&str, &Component> {
    components.iter().map(|c| (c.id.as_str(), c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_names_ignore_registry_and_tag() {
        assert_eq!(
            image_name("ghcr.io/posthog/posthog/capture:sha-1"),
            "capture"
        );
        assert_eq!(image_name("postgres:16.4-alpine"), "postgres");
        assert_eq!(image_name("redpandadata/redpanda@sha256:abc"), "redpanda");
    }

    #[test]
    fn a_service_joins_the_workload_it_selects_and_a_job_its_prefix() {
        let objs = vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x-api"},
                   "spec": {"template": {"metadata": {"labels": {"app": "x-api"}}, "spec": {"containers": [{"image": "api:1",
                     "env": [{"name": "DB", "value": "postgres://x-db:5432/app"}]}]}}}}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "x-db"},
                   "spec": {"template": {"metadata": {"labels": {"app": "x-db"}}, "spec": {"containers": [{"image": "postgres:16"}]}}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x-db"}, "spec": {"selector": {"app": "x-db"}}}),
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x-db-init"}, "spec": {}}),
        ];
        let c = derive(&objs, "x");
        let ids: Vec<_> = c.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["api", "db"]);
        assert_eq!(c[1].card, CardKind::Database);
        assert_eq!(c[1].objects.len(), 3);
        assert_eq!(c[0].depends_on, ["db"]);
        assert!(c[1].depends_on.is_empty());
    }
}
