//! `berth serve` turns off glibc's per-thread caches of freed memory, which kept pages resident
//! after instances were deleted (`end2end/bench/scale.py`). It does so by starting itself again
//! with `GLIBC_TUNABLES` set: the same process, under its own name, still serving; and a setting
//! the operator made is kept.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use common::process::Berth;

/// The allocator settings the server runs with, for extra environment `env`, as it logs them.
/// (`/proc/<pid>/environ` cannot tell: glibc rewrites the variable in place as it reads it.)
async fn tunables_with(purpose: &str, env: &[(&str, &str)]) -> String {
    let dir = common::fresh_dir(purpose);
    let mut berth = Berth::start(&dir, env).await;
    let pid = berth.pid();
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).expect("comm");
    assert_eq!(
        name.trim(),
        "berth",
        "the process keeps its id and its name"
    );
    let (status, _) = berth.get("/healthz").await;
    assert_eq!(status, 200, "the restarted server answers");
    berth.kill();
    let log = berth.log_text();
    let logged: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("glibc's allocator settings"))
        .collect();
    assert_eq!(logged.len(), 1, "logged once: {log}");
    let (_, rest) = logged[0].split_once("tunables=").expect("the settings");
    rest.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn serve_runs_without_glibc_thread_caches_in_the_same_process() {
    let tunables = tunables_with("alloc-default", &[("GLIBC_TUNABLES", "")]).await;
    assert_eq!(tunables, "glibc.malloc.tcache_count=0");
}

#[tokio::test]
async fn other_tunables_are_kept_beside_it() {
    let tunables = tunables_with(
        "alloc-other",
        &[("GLIBC_TUNABLES", "glibc.malloc.arena_max=1")],
    )
    .await;
    assert_eq!(
        tunables,
        "glibc.malloc.arena_max=1:glibc.malloc.tcache_count=0"
    );
}

#[tokio::test]
async fn an_operators_own_thread_cache_setting_is_left_alone() {
    let tunables = tunables_with(
        "alloc-own",
        &[("GLIBC_TUNABLES", "glibc.malloc.tcache_count=3")],
    )
    .await;
    assert_eq!(tunables, "glibc.malloc.tcache_count=3");
}
