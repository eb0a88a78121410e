//! Unit tests of the parser on a small model; the corpus (`server/tests/intents.yaml`) covers
//! the PostHog instance.

use app::model::{CardKind, Component, ComponentSpec, ContainerSpec, Edit, ObjectRef, VolumeSpec};

use super::*;

fn part(
    id: &str,
    card: CardKind,
    replicas: Option<i64>,
    volumes: &[(&str, &str)],
) -> (Component, ComponentSpec) {
    let primary = ObjectRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: format!("ph-{id}"),
    };
    (
        Component {
            id: id.into(),
            card,
            primary: primary.clone(),
            objects: vec![primary],
            depends_on: vec![],
        },
        ComponentSpec {
            replicas,
            containers: vec![ContainerSpec {
                name: id.into(),
                image: format!("img/{id}:1"),
                cpu_request: Some("100m".into()),
                cpu_limit: Some("1".into()),
                memory_request: Some("512Mi".into()),
                memory_limit: Some("1Gi".into()),
                env: vec![],
            }],
            volumes: volumes
                .iter()
                .map(|(n, s)| VolumeSpec {
                    name: n.to_string(),
                    size: s.to_string(),
                })
                .collect(),
            urls: vec![],
            scale: None,
        },
    )
}

fn model() -> Model {
    Model::new(
        "ph",
        "posthog",
        &[
            part("web", CardKind::App, Some(1), &[]),
            part("capture", CardKind::App, Some(2), &[]),
            part("pg", CardKind::Database, Some(1), &[("data", "10Gi")]),
        ],
    )
    .with_aliases("ingestion=capture; postgres=pg")
}

#[test]
fn a_request_with_two_settings_is_two_edits() {
    let Outcome::Change { edits, .. } = parse("give capture 3 replicas and 2Gi memory", &model())
    else {
        panic!()
    };
    assert_eq!(
        edits[0],
        Edit::Replicas {
            component: "capture".into(),
            replicas: 3
        }
    );
    assert!(matches!(&edits[1], Edit::Resources { memory_limit: Some(m), .. } if m == "2Gi"));
}

#[test]
fn gibberish_is_refused_with_examples() {
    let Outcome::Refusal { reason, examples } = parse("make it faster", &model()) else {
        panic!()
    };
    assert_eq!(reason, NO_MATCH);
    assert_eq!(examples.len(), 3);
}

#[test]
fn a_change_set_from_elsewhere_is_held_to_the_same_rules() {
    let m = model();
    let edits = |json: &str| serde_json::from_str::<Vec<Edit>>(json).expect("edits");
    let refused = |json: &str| check(&edits(json), &m).expect_err(json);
    assert_eq!(
        check(
            &edits(
                r#"[{"type":"replicas","component":"capture","replicas":3},{"type":"resources","component":"web","memoryLimit":"2Gi"},{"type":"storage","component":"pg","size":"20Gi"},{"type":"restart","component":"web"}]"#
            ),
            &m
        ),
        Ok(())
    );
    assert!(refused("[]").contains("no edits"));
    assert!(
        refused(r#"[{"type":"replicas","component":"captrue","replicas":3}]"#)
            .contains("captrue is not a component")
    );
    assert!(
        refused(r#"[{"type":"replicas","component":"web","replicas":51}]"#)
            .contains("more than 50")
    );
    assert!(
        refused(r#"[{"type":"resources","component":"web","cpuLimit":"65"}]"#)
            .contains("out of bounds")
    );
    assert!(
        refused(r#"[{"type":"resources","component":"web","memoryLimit":"257Gi"}]"#)
            .contains("out of bounds")
    );
    assert!(
        refused(r#"[{"type":"resources","component":"web","memoryLimit":"2 gigs"}]"#)
            .contains("not a valid memory quantity")
    );
    assert!(refused(r#"[{"type":"resources","component":"web"}]"#).contains("sets nothing"));
    assert!(
        refused(r#"[{"type":"storage","component":"pg","size":"5Gi"}]"#).contains("cannot shrink")
    );
    assert!(
        refused(r#"[{"type":"storage","component":"web","size":"5Gi"}]"#)
            .contains("no such volume")
    );
    assert!(refused(r#"[{"type":"env","component":"web","name":"A B","value":{"kind":"value","value":"x"}}]"#).contains("not an environment variable name"));
    assert!(
        refused(r#"[{"type":"image","component":"web","image":"a b"}]"#)
            .contains("not an image reference")
    );
    assert!(refused(r#"[{"type":"domain","host":"example.com"}]"#).contains("no Ingress"));
    assert!(
        refused(r#"[{"type":"input","name":"x","value":"y"}]"#)
            .contains("does not change template inputs")
    );
}
