//! What a card shows of a component's declared settings: replicas, each container's image,
//! resources and environment, its volumes' sizes, and the public URLs that reach it. Read from
//! the current revision's manifests after redaction, so a secret value never reaches a card.

use app::model::{Component, ComponentSpec, ContainerSpec, EnvVar, VolumeSpec};
use serde_json::Value;

use crate::kube::str_at;

fn find<'m>(manifests: &'m [Value], kind: &str, name: &str) -> Option<&'m Value> {
    manifests
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The settings of `component`, from the (redacted) manifests of the revision it belongs to.
pub fn of(manifests: &[Value], component: &Component) -> ComponentSpec {
    let primary = find(manifests, &component.primary.kind, &component.primary.name);
    let pod = primary.and_then(|o| match str_at(o, "/kind") {
        "CronJob" => o.pointer("/spec/jobTemplate/spec/template/spec"),
        "Pod" => o.pointer("/spec"),
        _ => o.pointer("/spec/template/spec"),
    });
    let containers = pod
        .and_then(|p| p["containers"].as_array())
        .into_iter()
        .flatten()
        .map(container)
        .collect();
    let mut volumes: Vec<VolumeSpec> = primary
        .and_then(|o| o.pointer("/spec/volumeClaimTemplates"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| VolumeSpec {
            name: str_at(t, "/metadata/name").to_string(),
            size: text(t, "/spec/resources/requests/storage").unwrap_or_default(),
        })
        .collect();
    for r in component
        .objects
        .iter()
        .filter(|r| r.kind == "PersistentVolumeClaim")
    {
        if let Some(claim) = find(manifests, &r.kind, &r.name) {
            volumes.push(VolumeSpec {
                name: r.name.clone(),
                size: text(claim, "/spec/resources/requests/storage").unwrap_or_default(),
            });
        }
    }
    ComponentSpec {
        replicas: primary
            .filter(|o| matches!(str_at(o, "/kind"), "Deployment" | "StatefulSet"))
            .map(|o| {
                o.pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
            }),
        containers,
        volumes,
        urls: urls(manifests, component),
        scale: None,
    }
}

fn container(c: &Value) -> ContainerSpec {
    let env = c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| EnvVar {
            name: str_at(e, "/name").to_string(),
            value: text(e, "/value"),
            from: e.get("valueFrom").map(|from| {
                let secret = from.get("secretKeyRef");
                let config = from.get("configMapKeyRef");
                match (secret, config) {
                    (Some(s), _) => format!("secret {}/{}", str_at(s, "/name"), str_at(s, "/key")),
                    (_, Some(m)) => {
                        format!("configMap {}/{}", str_at(m, "/name"), str_at(m, "/key"))
                    }
                    _ => match from.pointer("/fieldRef/fieldPath") {
                        Some(Value::String(p)) => format!("field {p}"),
                        _ => "a reference".to_string(),
                    },
                }
            }),
        })
        .collect();
    ContainerSpec {
        name: str_at(c, "/name").to_string(),
        image: str_at(c, "/image").to_string(),
        cpu_request: text(c, "/resources/requests/cpu"),
        cpu_limit: text(c, "/resources/limits/cpu"),
        memory_request: text(c, "/resources/requests/memory"),
        memory_limit: text(c, "/resources/limits/memory"),
        env,
    }
}

/// `https://<host><path>` for each Ingress rule whose backend is one of the component's
/// Services, or every rule of an Ingress that belongs to the component itself.
fn urls(manifests: &[Value], component: &Component) -> Vec<String> {
    let services: Vec<&str> = component
        .objects
        .iter()
        .filter(|r| r.kind == "Service")
        .map(|r| r.name.as_str())
        .collect();
    let mut out = Vec::new();
    for ingress in manifests.iter().filter(|o| o["kind"] == "Ingress") {
        let own = component
            .objects
            .iter()
            .any(|r| r.kind == "Ingress" && ingress["metadata"]["name"] == r.name.as_str());
        let tls = !ingress.pointer("/spec/tls").is_none_or(Value::is_null);
        let scheme = if tls { "https" } else { "http" };
        for rule in ingress
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let host = str_at(rule, "/host");
            if host.is_empty() {
                continue;
            }
            for path in rule
                .pointer("/http/paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let backend = str_at(path, "/backend/service/name");
                if own || services.contains(&backend) {
                    let p = str_at(path, "/path");
                    let url = format!("{scheme}://{host}{}", if p == "/" { "" } else { p });
                    if !out.contains(&url) {
                        out.push(url);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use app::model::{CardKind, ObjectRef};
    use serde_json::json;

    use super::*;

    fn r(kind: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: String::new(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_card_reads_replicas_resources_env_storage_and_urls() {
        let manifests = vec![
            json!({"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"replicas": 2,
                "template": {"spec": {"containers": [{"name": "db", "image": "postgres:16",
                    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": 2147483648u64}},
                    "env": [{"name": "MODE", "value": "fast"},
                            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "pw"}}}]}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "10Gi"}}}}]}}),
            json!({"kind": "Service", "metadata": {"name": "db"}}),
            json!({"kind": "Ingress", "metadata": {"name": "in"}, "spec": {"tls": [{"hosts": ["a.example.com"]}],
                "rules": [{"host": "a.example.com", "http": {"paths": [
                    {"path": "/", "backend": {"service": {"name": "db"}}},
                    {"path": "/other", "backend": {"service": {"name": "other"}}}]}}]}}),
        ];
        let component = Component {
            id: "db".into(),
            card: CardKind::Database,
            primary: r("StatefulSet", "db"),
            objects: vec![r("StatefulSet", "db"), r("Service", "db")],
            depends_on: vec![],
        };
        let spec = of(&manifests, &component);
        assert_eq!(spec.replicas, Some(2));
        let c = &spec.containers[0];
        assert_eq!(c.image, "postgres:16");
        assert_eq!(c.cpu_request.as_deref(), Some("500m"));
        assert_eq!(c.cpu_limit, None);
        assert_eq!(c.memory_limit.as_deref(), Some("2147483648"));
        assert_eq!(c.env[0].value.as_deref(), Some("fast"));
        assert_eq!(c.env[1].from.as_deref(), Some("secret s/pw"));
        assert_eq!(
            spec.volumes,
            vec![VolumeSpec {
                name: "data".into(),
                size: "10Gi".into()
            }]
        );
        assert_eq!(spec.urls, vec!["https://a.example.com".to_string()]);
    }
}
