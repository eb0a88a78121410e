//! Typed edits ([`Edit`]) applied to an instance's manifests.
//!
//! Each edit is a setter (applying it twice gives the same manifests), so a revision's manifests
//! are always "render(inputs, defaults) + the edits in effect", and an input change re-renders and
//! then re-applies the edits. Validation happens before anything is touched: an unknown component,
//! a malformed quantity or a storage shrink is an error and changes nothing.

use app::model::{Component, Edit};
use serde_json::{Value, json};

use super::quantity::parse_quantity;

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The component does not exist in this instance.
    #[error("unknown component `{name}`; this instance has: {known}")]
    UnknownComponent { name: String, known: String },
    /// The edit does not apply to this component.
    #[error("{0}")]
    NotApplicable(String),
    /// A quantity is malformed.
    #[error("`{value}` is not a valid {what} quantity (examples: {examples})")]
    BadQuantity {
        value: String,
        what: &'static str,
        examples: &'static str,
    },
    /// A volume would shrink.
    #[error(
        "volume `{volume}` of `{component}` cannot shrink from {from} to {to}; Kubernetes can only grow volumes"
    )]
    Shrink {
        component: String,
        volume: String,
        from: String,
        to: String,
    },
    /// Any other invalid value.
    #[error("{0}")]
    Invalid(String),
}

/// Applies component edits (not `Input`, which the caller handles by re-rendering) to `objects`.
pub fn apply_edits(
    objects: &mut Vec<Value>,
    components: &[Component],
    edits: &[Edit],
) -> Result<(), ChangeError> {
    for edit in edits {
        apply_edit(objects, components, edit)?;
    }
    Ok(())
}

fn component<'c>(components: &'c [Component], name: &str) -> Result<&'c Component, ChangeError> {
    components
        .iter()
        .find(|c| c.id == name)
        .ok_or_else(|| ChangeError::UnknownComponent {
            name: name.to_string(),
            known: components
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Index of the component's primary object, when it is a workload with a pod template.
fn workload_index(objects: &[Value], c: &Component) -> Result<usize, ChangeError> {
    // A CronJob's pod template sits deeper; edits reach the other workloads.
    let is_workload = crate::kube::is_workload(&c.primary.kind) && c.primary.kind != "CronJob";
    let idx = objects.iter().position(|o| {
        o["kind"] == c.primary.kind.as_str() && o["metadata"]["name"] == c.primary.name.as_str()
    });
    match (is_workload, idx) {
        (true, Some(i)) => Ok(i),
        _ => Err(ChangeError::NotApplicable(format!(
            "`{}` is a {} ({}), not a workload Berth can edit this way",
            c.id,
            c.card.as_str(),
            c.primary
        ))),
    }
}

pub(super) fn containers<'v>(
    o: &'v mut Value,
    only: Option<&str>,
    component: &str,
) -> Result<Vec<&'v mut serde_json::Map<String, Value>>, ChangeError> {
    let list = o
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| ChangeError::NotApplicable(format!("`{component}` has no containers")))?;
    let names: Vec<String> = list
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    // Only well-formed containers (mappings) can be edited; anything else is left alone.
    let picked: Vec<&mut serde_json::Map<String, Value>> = list
        .iter_mut()
        .filter_map(Value::as_object_mut)
        .filter(|c| only.is_none_or(|n| c.get("name").and_then(Value::as_str) == Some(n)))
        .collect();
    if picked.is_empty() {
        return Err(ChangeError::Invalid(format!(
            "`{component}` has no container `{}`; it has: {}",
            only.unwrap_or_default(),
            names.join(", ")
        )));
    }
    Ok(picked)
}

fn apply_edit(
    objects: &mut Vec<Value>,
    components: &[Component],
    edit: &Edit,
) -> Result<(), ChangeError> {
    match edit {
        Edit::Replicas {
            component: name,
            replicas,
        } => {
            let c = component(components, name)?;
            let i = workload_index(objects, c)?;
            if *replicas > 1000 {
                return Err(ChangeError::Invalid(format!(
                    "{replicas} replicas is more than Berth allows (1000)"
                )));
            }
            objects[i]["spec"]["replicas"] = json!(replicas);
            super::lifecycle::forget_pause(&mut objects[i]);
        }
        Edit::Resources {
            component: name,
            container,
            cpu_request,
            cpu_limit,
            memory_request,
            memory_limit,
        } => {
            let c = component(components, name)?;
            let i = workload_index(objects, c)?;
            let checks = [
                (cpu_request, "requests", "cpu"),
                (cpu_limit, "limits", "cpu"),
                (memory_request, "requests", "memory"),
                (memory_limit, "limits", "memory"),
            ];
            for (value, _, resource) in &checks {
                if let Some(v) = value {
                    parse_quantity(v, resource)?;
                }
            }
            if checks.iter().all(|(v, _, _)| v.is_none()) {
                return Err(ChangeError::Invalid("a resources edit needs at least one of cpuRequest, cpuLimit, memoryRequest, memoryLimit".into()));
            }
            for ctr in containers(&mut objects[i], container.as_deref(), name)? {
                for (value, section, resource) in &checks {
                    if let Some(v) = value {
                        let res = ctr.entry("resources").or_insert_with(|| json!({}));
                        let sec = res
                            .as_object_mut()
                            .ok_or_else(|| {
                                ChangeError::Invalid("resources is not a mapping".into())
                            })?
                            .entry(*section)
                            .or_insert_with(|| json!({}));
                        sec[*resource] = json!(v.trim());
                    }
                }
            }
        }
        Edit::Env {
            component: name,
            container,
            name: var,
            value,
            secret,
        } => {
            let c = component(components, name)?;
            let i = workload_index(objects, c)?;
            super::env::apply(objects, i, c, container.as_deref(), var, value, *secret)?;
        }
        Edit::Storage {
            component: name,
            volume,
            size,
        } => {
            let c = component(components, name)?;
            let new_bytes = parse_quantity(size, "storage")?;
            let mut targets: Vec<(usize, Option<usize>, String)> = Vec::new();
            for (i, o) in objects.iter().enumerate() {
                let in_component = c.objects.iter().any(|r| {
                    o["kind"] == r.kind.as_str() && o["metadata"]["name"] == r.name.as_str()
                });
                if !in_component {
                    continue;
                }
                if o["kind"] == "PersistentVolumeClaim" {
                    targets.push((
                        i,
                        None,
                        o["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    ));
                }
                for (j, vct) in o
                    .pointer("/spec/volumeClaimTemplates")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    targets.push((
                        i,
                        Some(j),
                        vct["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    ));
                }
            }
            let names: Vec<String> = targets.iter().map(|t| t.2.clone()).collect();
            let target = match volume {
                Some(v) => targets.into_iter().find(|t| &t.2 == v),
                None if targets.len() == 1 => targets.into_iter().next(),
                None if targets.is_empty() => None,
                None => {
                    return Err(ChangeError::Invalid(format!(
                        "`{name}` has several volumes ({}); say which",
                        names.join(", ")
                    )));
                }
            };
            let Some((i, j, vol)) = target else {
                return Err(ChangeError::NotApplicable(match volume {
                    Some(v) => {
                        format!("`{name}` has no volume `{v}`; it has: {}", names.join(", "))
                    }
                    None => format!("`{name}` has no volumes"),
                }));
            };
            let pointer = match j {
                Some(j) => {
                    format!("/spec/volumeClaimTemplates/{j}/spec/resources/requests/storage")
                }
                None => "/spec/resources/requests/storage".to_string(),
            };
            let current = objects[i]
                .pointer(&pointer)
                .and_then(Value::as_str)
                .unwrap_or("0")
                .to_string();
            let current_bytes = parse_quantity(&current, "storage").unwrap_or(0.0);
            if new_bytes < current_bytes {
                return Err(ChangeError::Shrink {
                    component: name.clone(),
                    volume: vol,
                    from: current,
                    to: size.clone(),
                });
            }
            if let Some(slot) = objects[i].pointer_mut(&pointer) {
                *slot = json!(size.trim());
            }
        }
        Edit::Image {
            component: name,
            container,
            image,
        } => {
            let c = component(components, name)?;
            let i = workload_index(objects, c)?;
            let image = image.trim();
            if image.is_empty() || image.contains(char::is_whitespace) {
                return Err(ChangeError::Invalid(format!(
                    "`{image}` is not an image reference or tag"
                )));
            }
            for ctr in containers(&mut objects[i], container.as_deref(), name)? {
                let current = ctr
                    .get("image")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                ctr.insert("image".into(), json!(with_tag(&current, image)));
            }
        }
        Edit::Domain { host } => {
            if crate::template::validate::dns1123_subdomain(host).is_some() || !host.contains('.') {
                return Err(ChangeError::Invalid(format!(
                    "`{host}` is not a valid host name"
                )));
            }
            let mut found = false;
            for o in objects.iter_mut().filter(|o| o["kind"] == "Ingress") {
                for rule in o
                    .pointer_mut("/spec/rules")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    rule["host"] = json!(host);
                    found = true;
                }
                for tls in o
                    .pointer_mut("/spec/tls")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    tls["hosts"] = json!([host]);
                }
            }
            if !found {
                return Err(ChangeError::NotApplicable(
                    "this instance has no Ingress rules to change".into(),
                ));
            }
        }
        Edit::Restart {
            component: name,
            at,
        } => {
            let c = component(components, name)?;
            let i = workload_index(objects, c)?;
            super::lifecycle::restart(objects, i, at.unwrap_or_default());
        }
        Edit::Pause { component: name } => {
            let c = component(components, name)?;
            let i = workload_index(objects, c)?;
            super::lifecycle::pause(objects, i, name)?;
        }
        Edit::Resume { component: name } => {
            let c = component(components, name)?;
            let i = workload_index(objects, c)?;
            super::lifecycle::resume(objects, i, name)?;
        }
        Edit::Input { .. } => {}
        Edit::Manifest {
            object,
            merge_patch,
        } => super::manifest_edit::apply(objects, object, merge_patch)?,
    }
    Ok(())
}

/// `tag` alone replaces the tag of `current`; anything with `/` or `:` or `@` is a full reference.
fn with_tag(current: &str, new: &str) -> String {
    if new.contains('/') || new.contains(':') || new.contains('@') {
        return new.to_string();
    }
    let base = current.split('@').next().unwrap_or(current);
    let repo = match base.rfind(':') {
        Some(p) if !base[p..].contains('/') => &base[..p],
        _ => base,
    };
    format!("{repo}:{new}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::EnvValue;
    use serde_json::json;

    fn objects() -> Vec<Value> {
        vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x-capture"},
                   "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "capture", "image": "ghcr.io/p/capture:sha-1",
                     "env": [{"name": "A", "value": "1"}]}]}}}}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "x-db"},
                   "spec": {"template": {"spec": {"containers": [{"name": "db", "image": "postgres:16"}]}},
                            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "2Gi"}}}}]}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "x"},
                   "spec": {"rules": [{"host": "a.example.com"}], "tls": [{"hosts": ["a.example.com"]}]}}),
        ]
    }

    fn run(edits: &[Edit]) -> Result<Vec<Value>, ChangeError> {
        let mut o = objects();
        let comps = crate::components::derive(&o, "x");
        apply_edits(&mut o, &comps, edits).map(|_| o)
    }

    #[test]
    fn replicas_resources_env_image_storage_and_domain() {
        let o = run(&[
            Edit::Replicas {
                component: "capture".into(),
                replicas: 3,
            },
            Edit::Resources {
                component: "capture".into(),
                container: None,
                cpu_request: None,
                cpu_limit: None,
                memory_request: Some("1Gi".into()),
                memory_limit: Some("2Gi".into()),
            },
            Edit::Env {
                component: "capture".into(),
                container: None,
                name: "B".into(),
                value: EnvValue::SecretRef {
                    secret: "s".into(),
                    key: "k".into(),
                },
                secret: false,
            },
            Edit::Env {
                component: "capture".into(),
                container: None,
                name: "A".into(),
                value: EnvValue::Unset,
                secret: false,
            },
            Edit::Image {
                component: "capture".into(),
                container: None,
                image: "sha-2".into(),
            },
            Edit::Storage {
                component: "db".into(),
                volume: None,
                size: "5Gi".into(),
            },
            Edit::Domain {
                host: "b.example.com".into(),
            },
        ])
        .unwrap();
        let c = &o[0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(o[0]["spec"]["replicas"], 3);
        assert_eq!(c["resources"]["requests"]["memory"], "1Gi");
        assert_eq!(c["resources"]["limits"]["memory"], "2Gi");
        assert_eq!(
            c["env"],
            json!([{"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}])
        );
        assert_eq!(c["image"], "ghcr.io/p/capture:sha-2");
        assert_eq!(
            o[1]["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
            "5Gi"
        );
        assert_eq!(o[2]["spec"]["rules"][0]["host"], "b.example.com");
        assert_eq!(o[2]["spec"]["tls"][0]["hosts"][0], "b.example.com");
    }

    #[test]
    fn bad_edits_are_refused_with_a_clear_reason() {
        let err = run(&[Edit::Replicas {
            component: "captur".into(),
            replicas: 3,
        }])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown component `captur`; this instance has: capture, db, ingress"
        );
        let err = run(&[Edit::Resources {
            component: "capture".into(),
            container: None,
            cpu_request: None,
            cpu_limit: None,
            memory_request: Some("2 gigs".into()),
            memory_limit: None,
        }])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`2 gigs` is not a valid memory quantity (examples: 512Mi, 1Gi, 10G)"
        );
        let err = run(&[Edit::Storage {
            component: "db".into(),
            volume: None,
            size: "1Gi".into(),
        }])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "volume `data` of `db` cannot shrink from 2Gi to 1Gi; Kubernetes can only grow volumes"
        );
        assert!(
            run(&[Edit::Replicas {
                component: "ingress".into(),
                replicas: 2
            }])
            .unwrap_err()
            .to_string()
            .contains("not a workload")
        );
        assert!(
            run(&[Edit::Domain {
                host: "not a host".into()
            }])
            .is_err()
        );
        assert!(
            run(&[Edit::Image {
                component: "capture".into(),
                container: Some("nope".into()),
                image: "x".into()
            }])
            .unwrap_err()
            .to_string()
            .contains("has no container `nope`")
        );
    }

    #[test]
    fn tags_and_references() {
        assert_eq!(
            with_tag("ghcr.io/p/capture:sha-1", "sha-2"),
            "ghcr.io/p/capture:sha-2"
        );
        assert_eq!(
            with_tag("localhost:5000/app", "v2"),
            "localhost:5000/app:v2"
        );
        assert_eq!(with_tag("postgres:16", "redis:7"), "redis:7");
    }

    #[test]
    fn edits_are_idempotent() {
        let edits = [
            Edit::Replicas {
                component: "capture".into(),
                replicas: 2,
            },
            Edit::Image {
                component: "capture".into(),
                container: None,
                image: "v9".into(),
            },
        ];
        let mut once = objects();
        let comps = crate::components::derive(&once, "x");
        apply_edits(&mut once, &comps, &edits).unwrap();
        let mut twice = once.clone();
        apply_edits(&mut twice, &comps, &edits).unwrap();
        assert_eq!(once, twice);
    }
}
