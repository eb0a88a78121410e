//! Whether a rule's condition holds, and the evidence that says so: one line per fact, naming
//! the object and what was seen. Only names, states, reasons and limits are reported, never a
//! value from an env variable or a Secret.

use app::model::HealthState;
use base64::Engine;
use serde_json::Value;

use super::{Condition, Facts, Seen};
use crate::kube::str_at;

/// The evidence when `c` holds for `seen`, `None` when it does not.
pub fn holds(c: &Condition, seen: &Seen, facts: &Facts) -> Option<Vec<String>> {
    let evidence = match c {
        Condition::NotReady(ids) => not_ready(ids, facts),
        Condition::JobNotSucceeded(ids) => ids
            .iter()
            .filter_map(|id| facts.component(id))
            .flat_map(|s| s.live.iter().copied().filter(|o| o["kind"] == "Job"))
            .filter_map(job_not_succeeded)
            .collect(),
        Condition::ContainerWaiting(reasons) => containers(seen)
            .filter_map(|(pod, cs)| {
                let reason = str_at(cs, "/state/waiting/reason");
                reasons.iter().any(|r| r == reason).then(|| {
                    let mut line =
                        format!("pod {pod}, container {}: {reason}", str_at(cs, "/name"));
                    let message = str_at(cs, "/state/waiting/message");
                    if !message.is_empty() {
                        line.push_str(&format!(" ({message})"));
                    }
                    if let Some(t) = cs.pointer("/lastState/terminated") {
                        line.push_str(&format!(
                            "; last exit code {} ({})",
                            t["exitCode"].as_i64().unwrap_or_default(),
                            str_at(t, "/reason")
                        ));
                    }
                    line
                })
            })
            .collect(),
        Condition::LastTerminated(reasons) => containers(seen)
            .filter_map(|(pod, cs)| {
                let t = ["/lastState/terminated", "/state/terminated"]
                    .iter()
                    .find_map(|p| cs.pointer(p))?;
                let reason = str_at(t, "/reason");
                let name = str_at(cs, "/name");
                reasons.iter().any(|r| r == reason).then(|| {
                    format!(
                        "pod {pod}, container {name}: {reason} (exit code {}); {}",
                        t["exitCode"].as_i64().unwrap_or_default(),
                        memory_limit(seen, name)
                    )
                })
            })
            .collect(),
        Condition::ClaimPending(true) => seen
            .live
            .iter()
            .filter(|o| o["kind"] == "PersistentVolumeClaim")
            .filter(|o| str_at(o, "/status/phase") == "Pending")
            .map(|o| {
                let class = match str_at(o, "/spec/storageClassName") {
                    "" => "the cluster's default".to_string(),
                    c => format!("`{c}`"),
                };
                format!(
                    "claim {} is Pending (StorageClass {class})",
                    str_at(o, "/metadata/name")
                )
            })
            .collect(),
        Condition::ServiceNoEndpoints(true) => seen
            .status
            .object_health
            .iter()
            .filter(|o| o.object.kind == "Service" && o.health.reason.starts_with("no ready"))
            .map(|o| format!("Service {}: {}", o.object.name, o.health.reason))
            .collect(),
        Condition::Unschedulable(true) => seen
            .pods
            .iter()
            .filter_map(|p| {
                let c = p
                    .pointer("/status/conditions")?
                    .as_array()?
                    .iter()
                    .find(|c| c["type"] == "PodScheduled")?;
                (c["status"] == "False" && c["reason"] == "Unschedulable").then(|| {
                    format!(
                        "pod {}: {}",
                        str_at(p, "/metadata/name"),
                        str_at(c, "/message")
                    )
                })
            })
            .collect(),
        Condition::IngressNoAddress(true) => seen
            .live
            .iter()
            .filter(|o| o["kind"] == "Ingress")
            .filter(|o| {
                o.pointer("/status/loadBalancer/ingress")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
            })
            .map(|o| {
                format!(
                    "Ingress {} has no address yet (no ingress controller has admitted it)",
                    str_at(o, "/metadata/name")
                )
            })
            .collect(),
        Condition::TlsSecretMissing(true) => own_manifests(seen, facts, "Ingress")
            .flat_map(|i| {
                i.pointer("/spec/tls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(move |t| (i, t))
            })
            .filter(|(_, t)| facts.missing_secrets.contains(str_at(t, "/secretName")))
            .map(|(i, t)| {
                format!(
                    "TLS Secret {} that Ingress {} names does not exist yet",
                    str_at(t, "/secretName"),
                    str_at(i, "/metadata/name")
                )
            })
            .collect(),
        Condition::ClaimPending(false)
        | Condition::ServiceNoEndpoints(false)
        | Condition::Unschedulable(false)
        | Condition::IngressNoAddress(false)
        | Condition::TlsSecretMissing(false) => Vec::new(),
    };
    (!evidence.is_empty()).then_some(evidence)
}

/// Components among `ids` that are not serving: not healthy, or a workload with no ready pod.
fn not_ready(ids: &[String], facts: &Facts) -> Vec<String> {
    ids.iter()
        .filter_map(|id| facts.component(id))
        .filter_map(|s| {
            let st = s.status;
            let workload = matches!(
                st.component.primary.kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet"
            );
            let unhealthy = !matches!(
                st.health.state,
                HealthState::Healthy | HealthState::Suspended
            );
            (unhealthy || (workload && st.pods_ready == 0)).then(|| {
                format!(
                    "{} is not ready: {}/{} pods ready, {}",
                    st.component.id, st.pods_ready, st.pods_total, st.health.reason
                )
            })
        })
        .collect()
}

fn job_not_succeeded(job: &Value) -> Option<String> {
    let name = str_at(job, "/metadata/name");
    let conditions = job.pointer("/status/conditions").and_then(Value::as_array);
    let is = |kind: &str| {
        conditions
            .into_iter()
            .flatten()
            .find(|c| c["type"] == kind && c["status"] == "True")
    };
    if is("Complete").is_some() || is("SuccessCriteriaMet").is_some() {
        return None;
    }
    if let Some(failed) = is("Failed") {
        return Some(format!(
            "Job {name} failed: {} ({})",
            str_at(failed, "/reason"),
            str_at(failed, "/message")
        ));
    }
    let failed = job
        .pointer("/status/failed")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    Some(if failed > 0 {
        format!("Job {name} has not succeeded: {failed} of its pods failed")
    } else {
        format!("Job {name} has not completed yet")
    })
}

/// Every container status of the card's pods, with its pod's name.
fn containers<'v>(seen: &'v Seen) -> impl Iterator<Item = (&'v str, &'v Value)> {
    seen.pods.iter().flat_map(|p| {
        let name = str_at(p, "/metadata/name");
        ["/status/initContainerStatuses", "/status/containerStatuses"]
            .into_iter()
            .filter_map(|l| p.pointer(l).and_then(Value::as_array))
            .flatten()
            .map(move |cs| (name, cs))
    })
}

fn memory_limit(seen: &Seen, container: &str) -> String {
    match seen
        .status
        .spec
        .containers
        .iter()
        .find(|c| c.name == container)
        .and_then(|c| c.memory_limit.as_deref())
    {
        Some(limit) => format!("its memory limit is {limit}"),
        None => "it has no memory limit (the node ran out)".into(),
    }
}

/// The card's own desired objects of `kind`.
fn own_manifests<'f>(
    seen: &'f Seen,
    facts: &'f Facts,
    kind: &'f str,
) -> impl Iterator<Item = &'f Value> {
    facts.manifests.iter().filter(move |o| {
        o["kind"] == kind
            && seen
                .status
                .component
                .objects
                .iter()
                .any(|r| r.kind == kind && o["metadata"]["name"] == r.name.as_str())
    })
}

/// For each component in `targets`, whether the card's env names its Services: the variable
/// that does (never its value), or that none does.
pub fn env_names(targets: &[String], seen: &Seen, facts: &Facts) -> Vec<String> {
    let values: Vec<(String, String)> = workload_env(seen, facts);
    targets
        .iter()
        .filter_map(|id| facts.component(id))
        .map(|t| {
            let services: Vec<&str> = t
                .status
                .component
                .objects
                .iter()
                .filter(|o| o.kind == "Service")
                .map(|o| o.name.as_str())
                .collect();
            let mut naming: Vec<&str> = values
                .iter()
                .filter(|(_, v)| services.iter().any(|s| v.contains(s)))
                .map(|(k, _)| k.as_str())
                .collect();
            naming.sort_unstable();
            naming.dedup();
            let id = &t.status.component.id;
            if naming.is_empty() {
                format!(
                    "no env variable of {} names {id}'s Service ({})",
                    seen.status.component.id,
                    services.join(", ")
                )
            } else {
                format!(
                    "{} reaches {id} through env {}",
                    seen.status.component.id,
                    naming.join(", ")
                )
            }
        })
        .collect()
}

/// The card's workload's env as (name, value), values from Secrets and ConfigMaps of the
/// instance resolved. Used only to look for Service names.
fn workload_env(seen: &Seen, facts: &Facts) -> Vec<(String, String)> {
    let primary = &seen.status.component.primary;
    let Some(workload) = facts.manifests.iter().find(|o| {
        o["kind"] == primary.kind.as_str() && o["metadata"]["name"] == primary.name.as_str()
    }) else {
        return Vec::new();
    };
    let lookup = |kind: &str, name: &str, key: &str| -> Option<String> {
        let o = facts
            .manifests
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)?;
        if let Some(v) = o
            .pointer(&format!("/stringData/{key}"))
            .and_then(Value::as_str)
        {
            return Some(v.to_string());
        }
        let raw = o.pointer(&format!("/data/{key}")).and_then(Value::as_str)?;
        if kind == "Secret" {
            let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
            String::from_utf8(bytes).ok()
        } else {
            Some(raw.to_string())
        }
    };
    // Every key of a ConfigMap or Secret that `envFrom` names.
    let all_of = |kind: &str, name: &str| -> Vec<(String, String)> {
        let Some(o) = facts
            .manifests
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        else {
            return Vec::new();
        };
        ["stringData", "data"]
            .iter()
            .filter_map(|f| o[*f].as_object())
            .flat_map(|m| m.keys())
            .filter_map(|k| lookup(kind, name, k).map(|v| (k.clone(), v)))
            .collect()
    };
    let containers = workload
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let mut out: Vec<(String, String)> = Vec::new();
    for c in containers {
        for from in c["envFrom"].as_array().into_iter().flatten() {
            if let Some(r) = from.get("configMapRef") {
                out.extend(all_of("ConfigMap", str_at(r, "/name")));
            }
            if let Some(r) = from.get("secretRef") {
                out.extend(all_of("Secret", str_at(r, "/name")));
            }
        }
        out.extend(c["env"].as_array().into_iter().flatten().filter_map(|e| {
            let name = str_at(e, "/name").to_string();
            let value = if let Some(v) = e["value"].as_str() {
                Some(v.to_string())
            } else if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
                lookup("Secret", str_at(r, "/name"), str_at(r, "/key"))
            } else if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
                lookup("ConfigMap", str_at(r, "/name"), str_at(r, "/key"))
            } else {
                None
            };
            value.map(|v| (name, v))
        }));
    }
    out
}
