//! How long the change box's parser takes, against Berth's PostHog instance: a typical request,
//! a long one of several clauses, and 1 KB of noise. The goal is well under 1 ms for 1 KB.

use berth::{fuzzing::posthog_intent_model, intent};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let model = posthog_intent_model();
    let typical = "give capture 3 replicas and 1Gi memory";
    let long = "scale capture to 2, give worker 1Gi memory limit and 500m more cpu, add SENTRY_DSN=https://k@sentry.io/1 to web and worker; restart the plugin server; clickhouse needs 30Gi of disk";
    let noise: String = "scale the frobnicator to eleven and give it 3 gigs of banana, then "
        .repeat(16)
        .chars()
        .take(1024)
        .collect();
    assert_eq!(noise.len(), 1024);
    for (name, text) in [
        ("typical", typical),
        ("long", long),
        ("1 KB of noise", noise.as_str()),
    ] {
        c.bench_function(&format!("intent parse ({name})"), |b| {
            b.iter(|| intent::parse(text, &model))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
