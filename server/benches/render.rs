//! How long the template engine takes on Berth's PostHog stack: parsing, rendering (every
//! `${{ }}` through the JavaScript sandbox) and deriving the component model.
//! The goal is well under 10 ms for a render.

use berth::{
    components,
    template::{RenderRequest, Template},
};
use criterion::{Criterion, criterion_group, criterion_main};

fn posthog() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../manifests/posthog/index.yaml"
    ))
    .expect("template")
}

fn bench(c: &mut Criterion) {
    let text = posthog();
    let template = Template::parse(&text).expect("parses");
    for platform in ["kubernetes", "sealos"] {
        let request = RenderRequest {
            inputs: [("platform".to_string(), platform.to_string())].into(),
            seed: Some(1),
            ..Default::default()
        };
        c.bench_function(&format!("render posthog ({platform})"), |b| {
            b.iter(|| template.render(&request).expect("renders"))
        });
    }
    c.bench_function("parse posthog", |b| {
        b.iter(|| Template::parse(&text).expect("parses"))
    });
    let request = RenderRequest {
        seed: Some(1),
        ..Default::default()
    };
    let rendered = template.render(&request).expect("renders");
    let objects: Vec<_> = rendered.objects.iter().map(|o| o.object.clone()).collect();
    let app_name = rendered.defaults["app_name"].clone();
    c.bench_function("derive posthog components", |b| {
        b.iter(|| components::derive(&objects, &app_name))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
