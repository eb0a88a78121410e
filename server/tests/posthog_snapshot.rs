//! A snapshot of Berth's PostHog stack rendered with fixed inputs and a seeded `random()`, so every
//! change to the template or the engine shows up as a reviewable diff.

mod common;

use berth::template::RenderRequest;

fn render(platform: &str) -> String {
    let template = common::posthog_template();
    let request = RenderRequest {
        inputs: [("platform".to_string(), platform.to_string())].into(),
        platform: [("SEALOS_NAMESPACE".to_string(), "ns-demo".to_string())].into(),
        seed: Some(2026),
        ..Default::default()
    };
    let rendered = template.render(&request).unwrap();
    let mut out = String::new();
    for obj in &rendered.objects {
        out.push_str(&format!("--- # line {}\n", obj.line));
        out.push_str(&serde_saphyr::to_string(&obj.object).unwrap());
    }
    out
}

#[test]
fn posthog_kubernetes_snapshot() {
    insta::assert_snapshot!(render("kubernetes"));
}

#[test]
fn posthog_sealos_snapshot() {
    insta::assert_snapshot!(render("sealos"));
}

#[test]
fn rendering_is_deterministic_for_a_seed() {
    assert_eq!(render("kubernetes"), render("kubernetes"));
}
