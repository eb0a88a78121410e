//! The component model of Berth's PostHog stack: every seed component becomes a card, with the
//! right kind and the right dependency edges, on both platforms.

mod common;

use std::collections::BTreeMap;

use app::model::CardKind;
use berth::{components, template::RenderRequest};

fn components_for(platform: &str) -> BTreeMap<String, (CardKind, Vec<String>, Vec<String>)> {
    let template = common::posthog_template();
    let request = RenderRequest {
        inputs: [("platform".to_string(), platform.to_string())].into(),
        app_name: Some("ph".into()),
        seed: Some(1),
        ..Default::default()
    };
    let rendered = template.render(&request).unwrap();
    let mut objects: Vec<_> = rendered.objects.iter().map(|o| o.object.clone()).collect();
    let comps = components::derive(&objects, "ph");
    // Berth's own labels (added before applying) must not change the model: the engine derives
    // it again from the labelled manifests.
    berth::manifest::label(&mut objects, &comps, "ph", "ns");
    assert_eq!(
        components::derive(&objects, "ph"),
        comps,
        "labels change nothing"
    );
    // Every object belongs to exactly one component.
    let total: usize = comps.iter().map(|c| c.objects.len()).sum();
    assert_eq!(total, objects.len(), "each object is in one component");
    comps
        .into_iter()
        .map(|c| {
            (
                c.id,
                (
                    c.card,
                    c.depends_on,
                    c.objects.iter().map(|o| o.to_string()).collect(),
                ),
            )
        })
        .collect()
}

fn deps(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn kubernetes_variant_components_and_edges() {
    let c = components_for("kubernetes");
    let ids: Vec<&str> = c.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        [
            "capture",
            "clickhouse",
            "feature-flags",
            "ingress",
            "kafka",
            "pg",
            "plugins",
            "redis",
            "replay-capture",
            "storage",
            "web",
            "worker",
            "zookeeper"
        ]
    );
    let expect = |id: &str, card: CardKind, d: &[&str]| {
        let (got_card, got_deps, _) = &c[id];
        assert_eq!(*got_card, card, "{id} card");
        assert_eq!(got_deps, &deps(d), "{id} depends on");
    };
    let backend = ["clickhouse", "kafka", "pg", "plugins", "redis", "storage"];
    expect("web", CardKind::App, &backend);
    expect("worker", CardKind::App, &backend);
    expect(
        "plugins",
        CardKind::App,
        &["clickhouse", "kafka", "pg", "redis", "storage"],
    );
    expect("capture", CardKind::App, &["kafka", "redis"]);
    expect("replay-capture", CardKind::App, &["kafka", "redis"]);
    expect("feature-flags", CardKind::App, &["pg", "redis"]);
    expect("pg", CardKind::Database, &[]);
    expect("redis", CardKind::Database, &[]);
    expect("clickhouse", CardKind::Database, &["zookeeper"]);
    expect("zookeeper", CardKind::Queue, &[]);
    expect("kafka", CardKind::Queue, &[]);
    expect("storage", CardKind::Storage, &[]);
    expect(
        "ingress",
        CardKind::Network,
        &["capture", "feature-flags", "replay-capture", "web"],
    );

    // Objects land where a person would look for them.
    let has = |id: &str, obj: &str| c[id].2.iter().any(|o| o == obj);
    assert!(
        has("pg", "Job/ph-pg-init"),
        "the init Job belongs to PostgreSQL"
    );
    assert!(has("pg", "Secret/ph-pg-conn-credential"));
    assert!(has("pg", "Service/ph-pg-postgresql"));
    assert!(
        has("web", "Job/ph-migrate"),
        "migrations run once, with web"
    );
    assert!(has("web", "Service/ph"));
    assert!(has("clickhouse", "ConfigMap/ph-clickhouse-config"));
    assert!(has("clickhouse", "Secret/ph-clickhouse-credentials"));
    assert!(has("storage", "Job/ph-minio-init"));
    assert!(has("capture", "Service/ph-capture"));
    assert_eq!(c["web"].2[0], "Deployment/ph", "the primary comes first");
}

#[test]
fn sealos_variant_components_and_edges() {
    let c = components_for("sealos");
    let expect = |id: &str, card: CardKind, d: &[&str]| {
        let (got_card, got_deps, _) = &c[id];
        assert_eq!(*got_card, card, "{id} card");
        assert_eq!(got_deps, &deps(d), "{id} depends on");
    };
    expect("pg", CardKind::Database, &[]);
    expect("redis", CardKind::Database, &[]);
    expect("storage", CardKind::Storage, &[]);
    expect(
        "web",
        CardKind::App,
        &["clickhouse", "kafka", "pg", "plugins", "redis", "storage"],
    );
    expect("feature-flags", CardKind::App, &["pg", "redis"]);
    expect("app", CardKind::Network, &["ingress"]);
    let pg = &c["pg"].2;
    assert_eq!(pg[0], "Cluster/ph-pg");
    for o in [
        "ServiceAccount/ph-pg",
        "Role/ph-pg",
        "RoleBinding/ph-pg",
        "Job/ph-pg-init",
    ] {
        assert!(pg.contains(&o.to_string()), "{o} in pg: {pg:?}");
    }
    assert_eq!(c["storage"].2, ["ObjectStorageBucket/ph"]);
}
