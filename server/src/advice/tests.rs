use std::collections::BTreeSet;

use app::model::{
    CardKind, Component, ComponentSpec, ComponentStatus, ContainerSpec, Health, HealthState,
    ObjectHealth, ObjectRef,
};
use serde_json::{Value, json};

use super::*;

fn status(
    id: &str,
    card: CardKind,
    kind: &str,
    health: HealthState,
    ready: u32,
) -> ComponentStatus {
    let primary = ObjectRef {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: format!("ph-{id}"),
    };
    let service = ObjectRef {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: format!("ph-{id}"),
    };
    ComponentStatus {
        component: Component {
            id: id.into(),
            card,
            primary: primary.clone(),
            objects: vec![primary.clone(), service.clone()],
            depends_on: vec![],
        },
        health: Health::new(health, "why"),
        pods_ready: ready,
        pods_total: 1,
        restarts: 0,
        object_health: vec![
            ObjectHealth {
                object: primary,
                health: Health::new(health, "why"),
            },
            ObjectHealth {
                object: service,
                health: if ready == 0 {
                    Health::new(
                        HealthState::Progressing,
                        "no ready endpoints (0/1 pods ready)",
                    )
                } else {
                    Health::new(HealthState::Healthy, "1 endpoint")
                },
            },
        ],
        spec: ComponentSpec {
            containers: vec![ContainerSpec {
                name: "main".into(),
                memory_limit: Some("512Mi".into()),
                ..ContainerSpec::default()
            }],
            ..ComponentSpec::default()
        },
        pods: vec![],
        events: Default::default(),
        hints: vec![],
    }
}

fn pod(name: &str, container_status: Value) -> Value {
    json!({"kind": "Pod", "metadata": {"name": name},
        "status": {"phase": "Running", "containerStatuses": [container_status]}})
}

fn hints_for(
    rules: &[Rule],
    statuses: &[ComponentStatus],
    pods: &[Vec<Value>],
    manifests: &[Value],
) -> Vec<Vec<app::model::Hint>> {
    let missing = BTreeSet::new();
    let facts = Facts {
        components: statuses
            .iter()
            .zip(pods)
            .map(|(status, pods)| Seen {
                status,
                pods: pods.iter().collect(),
                live: vec![],
            })
            .collect(),
        manifests,
        missing_secrets: &missing,
    };
    evaluate(rules, &facts)
}

#[test]
fn the_generic_rules_and_the_posthog_templates_rules_parse() {
    assert!(generic().len() >= 6);
    let t = crate::template::parse::Template::parse(include_str!(
        "../../../manifests/posthog/index.yaml"
    ))
    .unwrap();
    let ids: Vec<&str> = t.hints.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "posthog-background-delayed",
            "posthog-plugins-validation",
            "posthog-database-startup",
            "posthog-public-url"
        ]
    );
    assert_eq!(scale::advice(&t.scale, "capture").unwrap().order, 1);
    assert!(!scale::advice(&t.scale, "clickhouse").unwrap().out);
}

#[test]
fn an_image_pull_back_off_names_the_pod_container_and_message() {
    let web = status("web", CardKind::App, "Deployment", HealthState::Degraded, 0);
    let p = pod(
        "ph-web-1",
        json!({"name": "main", "state": {"waiting": {"reason": "ImagePullBackOff",
            "message": "Back-off pulling image \"nope:1\""}}}),
    );
    let hints = hints_for(&[], &[web], &[vec![p]], &[]);
    let h = hints[0].iter().find(|h| h.rule == "image-pull").unwrap();
    assert_eq!(
        h.evidence,
        ["pod ph-web-1, container main: ImagePullBackOff (Back-off pulling image \"nope:1\")"]
    );
}

#[test]
fn an_oom_kill_names_the_memory_limit_and_a_crash_loop_the_last_exit() {
    let web = status("web", CardKind::App, "Deployment", HealthState::Degraded, 0);
    let p = pod(
        "ph-web-1",
        json!({"name": "main", "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}),
    );
    let hints = hints_for(&[], &[web], &[vec![p]], &[]);
    let oom = hints[0].iter().find(|h| h.rule == "oom-killed").unwrap();
    assert_eq!(
        oom.evidence,
        ["pod ph-web-1, container main: OOMKilled (exit code 137); its memory limit is 512Mi"]
    );
    let crash = hints[0].iter().find(|h| h.rule == "crash-loop").unwrap();
    assert!(
        crash.evidence[0].ends_with("last exit code 137 (OOMKilled)"),
        "{crash:?}"
    );
}

#[test]
fn a_template_rule_fires_on_its_components_with_the_dependency_as_evidence() {
    let rules = parse_rules(
        r#"
- id: deps
  title: t
  cause: c
  fix: f
  on: [plugins]
  when:
    - notReady: [redis, kafka]
  checkEnv: [redis]
  restart: self
"#,
    )
    .unwrap();
    let plugins = status(
        "plugins",
        CardKind::App,
        "Deployment",
        HealthState::Healthy,
        1,
    );
    let redis = status(
        "redis",
        CardKind::Database,
        "StatefulSet",
        HealthState::Healthy,
        0,
    );
    let kafka = status(
        "kafka",
        CardKind::Queue,
        "StatefulSet",
        HealthState::Healthy,
        1,
    );
    let manifests = vec![
        json!({"kind": "Deployment", "metadata": {"name": "ph-plugins"}, "spec": {"template": {"spec": {
            "containers": [{"name": "main", "env": [
                {"name": "REDIS_URL", "valueFrom": {"secretKeyRef": {"name": "s", "key": "url"}}}]}]}}}}),
        json!({"kind": "Secret", "metadata": {"name": "s"},
            "stringData": {"url": "redis://:hunter2@ph-redis:6379"}}),
    ];
    let all = [plugins, redis, kafka];
    let hints = hints_for(&rules, &all, &[vec![], vec![], vec![]], &manifests);
    let h = &hints[0][0];
    assert_eq!(h.rule, "deps");
    assert_eq!(
        h.evidence,
        [
            "redis is not ready: 0/1 pods ready, why",
            "plugins reaches redis through env REDIS_URL"
        ]
    );
    assert!(!h.evidence.iter().any(|e| e.contains("hunter2")));
    assert_eq!(
        h.actions,
        [app::model::HintAction::Restart {
            component: "plugins".into()
        }]
    );
    // Not on the other cards, and not when both are ready.
    assert!(hints[1].iter().all(|h| h.rule != "deps"));
    let ready = [
        status(
            "plugins",
            CardKind::App,
            "Deployment",
            HealthState::Healthy,
            1,
        ),
        status(
            "redis",
            CardKind::Database,
            "StatefulSet",
            HealthState::Healthy,
            1,
        ),
    ];
    let hints = hints_for(&rules, &ready, &[vec![], vec![]], &manifests);
    assert!(hints[0].is_empty(), "{hints:?}");
}

#[test]
fn bad_rules_are_refused_with_the_reason() {
    let unknown = parse_rules("- {id: a, title: t, cause: c, fix: f, when: [{cpuHigh: true}]}");
    assert!(unknown.unwrap_err().contains("cpuHigh"));
    let empty = parse_rules("- {id: a, title: t, cause: c, fix: f, when: []}");
    assert!(empty.unwrap_err().contains("no condition"));
    let twice = parse_rules(
        "- {id: a, title: t, cause: c, fix: f, when: [{unschedulable: true}]}\n- {id: a, title: t, cause: c, fix: f, when: [{unschedulable: true}]}",
    );
    assert!(twice.unwrap_err().contains("twice"));
    assert!(
        scale::parse(
            "- {group: g, order: 1, components: [a]}\n- {group: h, order: 2, components: [a]}"
        )
        .is_err()
    );
}
