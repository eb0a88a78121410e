//! Health of live objects and of components, in the states gitops-engine uses (Healthy,
//! Suspended, Progressing, Missing, Degraded, Unknown), each with a reason a person can act on.
//!
//! The checks here are pure functions of the live objects (as JSON); [`watch`] keeps those objects
//! current with reflectors and says when an instance's objects changed. The rules follow
//! gitops-engine's `pkg/health/health_*.go` (observedGeneration first, then replica counts).

pub mod events;
mod trim;
pub mod watch;

use app::model::{Component, ComponentStatus, Health, HealthState, ObjectHealth, ObjectRef};
use serde_json::Value;

use crate::kube::str_at;

/// Reasons a container is stuck, in the words a person would search for.
fn waiting_reason(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "ImagePullBackOff" | "ErrImagePull" => "image pull back-off",
        "CrashLoopBackOff" => "crash loop back-off",
        "CreateContainerConfigError" => {
            "container config error (a missing Secret or ConfigMap key?)"
        }
        "InvalidImageName" => "invalid image name",
        "RunContainerError" | "CreateContainerError" => "container failed to start",
        _ => return None,
    })
}

fn i64_at(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn condition<'v>(v: &'v Value, kind: &str) -> Option<&'v Value> {
    v.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c["type"] == kind)
}

/// The worst stuck-container reason among pods, if any.
fn pods_problem(pods: &[&Value]) -> Option<&'static str> {
    pods.iter().find_map(|p| {
        ["initContainerStatuses", "containerStatuses"]
            .iter()
            .find_map(|list| {
                p.pointer(&format!("/status/{list}"))
                    .and_then(Value::as_array)?
                    .iter()
                    .find_map(|cs| waiting_reason(str_at(cs, "/state/waiting/reason")))
            })
    })
}

/// Health of one live object. `pods` are the pods the object owns (for workloads).
pub fn object_health(live: &Value, pods: &[&Value]) -> Health {
    match str_at(live, "/kind") {
        "Deployment" => deployment(live, pods),
        "StatefulSet" => statefulset(live, pods),
        "DaemonSet" => daemonset(live),
        "Job" => job(live, pods),
        "PersistentVolumeClaim" => pvc(live),
        "Pod" => pod(live),
        "Ingress" => ingress(live),
        "Cluster" if str_at(live, "/apiVersion").starts_with("apps.kubeblocks.io/") => {
            kubeblocks_cluster(live)
        }
        "ObjectStorageBucket" => bucket(live),
        kind => Health::new(
            HealthState::Healthy,
            format!("applied (no health check for {kind})"),
        ),
    }
}

fn generation_pending(live: &Value) -> bool {
    i64_at(live, "/status/observedGeneration") < i64_at(live, "/metadata/generation")
}

fn deployment(d: &Value, pods: &[&Value]) -> Health {
    if d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return Health::new(HealthState::Suspended, "rollout paused");
    }
    if generation_pending(d) {
        return Health::new(
            HealthState::Progressing,
            "waiting for the controller to see the new spec",
        );
    }
    let want = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let updated = i64_at(d, "/status/updatedReplicas");
    let ready = i64_at(d, "/status/readyReplicas");
    let available = i64_at(d, "/status/availableReplicas");
    let total = i64_at(d, "/status/replicas");
    if condition(d, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
        return Health::new(
            HealthState::Degraded,
            format!("{ready}/{want} ready: rollout exceeded its progress deadline"),
        );
    }
    if let Some(problem) = pods_problem(pods) {
        return Health::new(
            HealthState::Degraded,
            format!("{ready}/{want} ready: {problem}"),
        );
    }
    if want == 0 {
        return Health::new(HealthState::Healthy, "scaled to 0");
    }
    if updated < want {
        return Health::new(
            HealthState::Progressing,
            format!("rolling out: {updated}/{want} updated, {ready} ready"),
        );
    }
    if total > updated {
        return Health::new(
            HealthState::Progressing,
            format!("rolling out: {} old pods terminating", total - updated),
        );
    }
    if available < want {
        return Health::new(HealthState::Progressing, format!("{ready}/{want} ready"));
    }
    Health::new(HealthState::Healthy, format!("{ready}/{want} ready"))
}

fn statefulset(s: &Value, pods: &[&Value]) -> Health {
    if generation_pending(s) {
        return Health::new(
            HealthState::Progressing,
            "waiting for the controller to see the new spec",
        );
    }
    let want = s
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let ready = i64_at(s, "/status/readyReplicas");
    if let Some(problem) = pods_problem(pods) {
        return Health::new(
            HealthState::Degraded,
            format!("{ready}/{want} ready: {problem}"),
        );
    }
    if want == 0 {
        return Health::new(HealthState::Healthy, "scaled to 0");
    }
    let pending_claims = pods.iter().any(|p| {
        condition(p, "PodScheduled")
            .is_some_and(|c| str_at(c, "/message").contains("PersistentVolumeClaim"))
    });
    if ready < want {
        let why = if pending_claims {
            ": waiting for volumes to bind"
        } else {
            ""
        };
        return Health::new(
            HealthState::Progressing,
            format!("{ready}/{want} ready{why}"),
        );
    }
    let current = str_at(s, "/status/currentRevision");
    let update = str_at(s, "/status/updateRevision");
    if !update.is_empty() && current != update && i64_at(s, "/status/updatedReplicas") < want {
        return Health::new(
            HealthState::Progressing,
            format!(
                "rolling out: {}/{want} updated",
                i64_at(s, "/status/updatedReplicas")
            ),
        );
    }
    Health::new(HealthState::Healthy, format!("{ready}/{want} ready"))
}

fn daemonset(d: &Value) -> Health {
    if generation_pending(d) {
        return Health::new(
            HealthState::Progressing,
            "waiting for the controller to see the new spec",
        );
    }
    let want = i64_at(d, "/status/desiredNumberScheduled");
    let ready = i64_at(d, "/status/numberReady");
    if ready < want {
        return Health::new(HealthState::Progressing, format!("{ready}/{want} ready"));
    }
    Health::new(HealthState::Healthy, format!("{ready}/{want} ready"))
}

fn job(j: &Value, pods: &[&Value]) -> Health {
    if condition(j, "Complete").is_some_and(|c| c["status"] == "True") {
        return Health::new(HealthState::Healthy, "completed");
    }
    if let Some(c) = condition(j, "Failed").filter(|c| c["status"] == "True") {
        let why = str_at(c, "/message");
        return Health::new(
            HealthState::Degraded,
            if why.is_empty() {
                "failed".to_string()
            } else {
                format!("failed: {why}")
            },
        );
    }
    if j.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return Health::new(HealthState::Suspended, "suspended");
    }
    if let Some(problem) = pods_problem(pods) {
        return Health::new(HealthState::Degraded, format!("not running: {problem}"));
    }
    let failed = i64_at(j, "/status/failed");
    let retries = if failed > 0 {
        format!(" ({failed} failed attempts)")
    } else {
        String::new()
    };
    Health::new(HealthState::Progressing, format!("running{retries}"))
}

fn pvc(p: &Value) -> Health {
    match str_at(p, "/status/phase") {
        "Bound" => Health::new(
            HealthState::Healthy,
            format!("bound ({})", str_at(p, "/status/capacity/storage")),
        ),
        "Lost" => Health::new(HealthState::Degraded, "lost its volume"),
        _ => Health::new(HealthState::Progressing, "pending: waiting for a volume"),
    }
}

fn pod(p: &Value) -> Health {
    if let Some(problem) = pods_problem(&[p]) {
        return Health::new(HealthState::Degraded, problem);
    }
    match str_at(p, "/status/phase") {
        "Running" if condition(p, "Ready").is_some_and(|c| c["status"] == "True") => {
            Health::new(HealthState::Healthy, "running")
        }
        "Succeeded" => Health::new(HealthState::Healthy, "completed"),
        "Failed" => Health::new(HealthState::Degraded, "failed"),
        phase => Health::new(
            HealthState::Progressing,
            if phase.is_empty() {
                "pending".to_string()
            } else {
                phase.to_lowercase()
            },
        ),
    }
}

fn ingress(i: &Value) -> Health {
    let addresses = i
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    if addresses > 0 {
        Health::new(HealthState::Healthy, "serving")
    } else {
        // Argo calls this Progressing; with no ingress controller it would never end, so Berth
        // reports the rules as accepted and says what is missing.
        Health::new(
            HealthState::Healthy,
            "rules accepted; no load-balancer address yet",
        )
    }
}

fn kubeblocks_cluster(c: &Value) -> Health {
    match str_at(c, "/status/phase") {
        "" => Health::new(
            HealthState::Progressing,
            "waiting for operator (KubeBlocks has not reported status)",
        ),
        "Running" => Health::new(HealthState::Healthy, "running"),
        "Stopped" => Health::new(HealthState::Suspended, "stopped"),
        "Failed" | "Abnormal" => Health::new(
            HealthState::Degraded,
            str_at(c, "/status/phase").to_lowercase(),
        ),
        other => Health::new(HealthState::Progressing, other.to_lowercase()),
    }
}

fn bucket(b: &Value) -> Health {
    if str_at(b, "/status/name").is_empty() {
        Health::new(
            HealthState::Progressing,
            "waiting for operator (the object-storage controller has not created the bucket)",
        )
    } else {
        Health::new(
            HealthState::Healthy,
            format!("bucket {}", str_at(b, "/status/name")),
        )
    }
}

/// A Service's health from the pods that would back it: the pods matching its selector (as Berth
/// applied it) that are ready, or all matching pods for a headless Service that publishes
/// not-ready addresses. A Service without a selector has its endpoints managed elsewhere.
pub fn service(desired: &Value, pods: &[Value]) -> Health {
    let Some(selector) = desired
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty())
    else {
        return Health::new(
            HealthState::Healthy,
            "no selector: endpoints are managed elsewhere",
        );
    };
    let not_ready_too = desired
        .pointer("/spec/publishNotReadyAddresses")
        .and_then(Value::as_bool)
        == Some(true);
    let matching: Vec<&Value> = pods
        .iter()
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .filter(|p| {
            let labels = p.pointer("/metadata/labels").and_then(Value::as_object);
            labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
        })
        .collect();
    let ready = matching
        .iter()
        .filter(|p| not_ready_too || condition(p, "Ready").is_some_and(|c| c["status"] == "True"))
        .count();
    match (ready, matching.len()) {
        (0, 0) => Health::new(HealthState::Progressing, "no pods match its selector yet"),
        (0, n) => Health::new(
            HealthState::Progressing,
            format!("no ready endpoints (0/{n} pods ready)"),
        ),
        (1, _) => Health::new(HealthState::Healthy, "1 endpoint"),
        (r, _) => Health::new(HealthState::Healthy, format!("{r} endpoints")),
    }
}

/// The worst of several health values; its reason wins, and among equals the first one's.
pub fn worst(items: impl IntoIterator<Item = Health>) -> Health {
    items
        .into_iter()
        .fold(None::<Health>, |acc, h| match acc {
            Some(a) if a.state.severity() >= h.state.severity() => Some(a),
            _ => Some(h),
        })
        .unwrap_or_else(|| Health::new(HealthState::Healthy, "no objects"))
}

/// What the watches know about one expected object.
pub enum Live {
    /// It exists; this is its live form.
    Present(Value),
    /// Its kind is watched and it is not there.
    Absent,
    /// Its kind is watched but the first list has not arrived yet.
    NotSynced,
    /// Its kind is not watched (ConfigMaps, Secrets, RBAC...).
    NotWatched,
    /// Its health was worked out from other live objects (a Service from its pods).
    Derived(Health),
}

/// Live state of one component's objects and its pods.
pub struct ComponentLive<'a> {
    /// The component.
    pub component: &'a Component,
    /// Per object, what is known of it.
    pub objects: Vec<(ObjectRef, Live)>,
    /// The component's pods.
    pub pods: Vec<Value>,
}

/// A component's status: per-object health, the worst of them, pod counts and restarts.
pub fn component_status(live: &ComponentLive) -> ComponentStatus {
    let pods: Vec<&Value> = live.pods.iter().collect();
    let mut objects = Vec::new();
    for (r, obj) in &live.objects {
        let owned: Vec<&Value> = pods.iter().copied().filter(|p| owned_by(p, r)).collect();
        let health = match obj {
            Live::Present(o) => object_health(o, &owned),
            Live::Absent => Health::new(HealthState::Missing, "not found in the cluster"),
            Live::NotSynced => Health::new(HealthState::Unknown, "watch still starting"),
            Live::NotWatched => Health::new(
                HealthState::Healthy,
                format!("applied (no health check for {})", r.kind),
            ),
            Live::Derived(h) => h.clone(),
        };
        objects.push(ObjectHealth {
            object: r.clone(),
            health,
        });
    }
    let primary = &live.component.primary;
    let primary_health = objects
        .iter()
        .find(|o| &o.object == primary)
        .map(|o| o.health.clone());
    let mut health = worst(objects.iter().map(|o| {
        let mut h = o.health.clone();
        if &o.object != primary {
            h.reason = format!("{} {}: {}", o.object.kind, o.object.name, h.reason);
        }
        h
    }));
    // A workload that is not ready while its init Job still runs is waiting for that Job.
    if primary_health.is_some_and(|h| h.state == HealthState::Progressing)
        && let Some(job) = objects
            .iter()
            .find(|o| o.object.kind == "Job" && o.health.state == HealthState::Progressing)
    {
        health = Health::new(
            HealthState::Progressing,
            format!("waiting for `{}` Job", job.object.name),
        );
    }
    let workload_pods: Vec<&Value> = pods
        .iter()
        .copied()
        .filter(|p| owned_by(p, primary))
        .collect();
    let ready = workload_pods
        .iter()
        .filter(|p| condition(p, "Ready").is_some_and(|c| c["status"] == "True"))
        .count();
    let restarts: i64 = pods
        .iter()
        .flat_map(|p| {
            p.pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .map(|cs| i64_at(cs, "/restartCount"))
        .sum();
    ComponentStatus {
        component: live.component.clone(),
        health,
        pods_ready: ready as u32,
        pods_total: workload_pods.len() as u32,
        restarts: restarts.max(0) as u32,
        object_health: objects,
        spec: Default::default(),
        pods: Vec::new(),
        events: Default::default(),
        hints: Vec::new(),
    }
}

/// Whether a pod belongs to the workload `r` (by owner chain naming: `<deploy>-<hash>-<id>`,
/// `<sts>-<n>`, Job pods carry `job-name`).
fn owned_by(pod: &Value, r: &ObjectRef) -> bool {
    let owner = pod
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let (okind, oname) = owner
        .map(|o| (str_at(o, "/kind"), str_at(o, "/name")))
        .unwrap_or_default();
    match r.kind.as_str() {
        "Deployment" => {
            okind == "ReplicaSet"
                && oname
                    .rsplit_once('-')
                    .is_some_and(|(base, _)| base == r.name)
        }
        "StatefulSet" | "DaemonSet" | "Job" => okind == r.kind && oname == r.name,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
