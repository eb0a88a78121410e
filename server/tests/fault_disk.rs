//! A full disk under a real `berth serve` process: its database on a small tmpfs that is then
//! filled. Changes answer 503 (never 500), nothing is half-written (every revision in history is
//! whole, and none was added by a refused change), reads keep working, and once space is freed
//! changes work again and the next start is clean.
//!
//! Mounting a tmpfs needs root (CAP_SYS_ADMIN), as on the machines Berth's tests run on; where
//! it is refused the test says so and fails rather than pass without having run.

mod common;

use std::{path::Path, process::Command};

use common::process::Berth;
use serde_json::{Value, json};

/// A tmpfs of `size` at `dir`, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "this test needs to mount a tmpfs (as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` with a file (`filler`) until no space is left.
fn fill(dir: &Path) {
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k"])
        .arg(format!("of={}", dir.join("filler").display()))
        .output()
        .expect("dd");
}

fn edits(replicas: u32) -> Value {
    json!([{"type": "replicas", "component": "web", "replicas": replicas}])
}

/// Previews and applies a change; answers the apply's status and body.
async fn change(berth: &Berth, base: &str, revision: i64, replicas: u32) -> (u16, Value) {
    let (status, preview) = berth
        .post(
            &format!("{base}/changes/preview"),
            json!({"baseRevision": revision, "edits": edits(replicas)}),
        )
        .await;
    assert_eq!(status, 200, "preview is a read: {preview}");
    berth
        .post(
            &format!("{base}/changes?wait=true"),
            json!({"baseRevision": revision, "edits": edits(replicas), "planHash": preview["planHash"]}),
        )
        .await
}

#[tokio::test]
async fn a_full_disk_refuses_changes_with_503_and_berth_recovers_when_space_is_freed() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "disk").await;
    let dir = common::fresh_dir("fault-disk");
    let mount = dir.join("small");
    let tmpfs = Tmpfs::mount(&mount, "12m");
    let mut berth = Berth::start(&mount, &[]).await;
    let base = format!("/api/v1/instances/{}/ph", ns.name);
    let (status, op) = berth
        .post(
            "/api/v1/instances?wait=true",
            json!({"template": "posthog", "namespace": ns.name, "name": "ph", "inputs": {"platform": "kubernetes"}}),
        )
        .await;
    assert_eq!(status, 201, "{op}");

    // Fill the disk. A change is then refused with 503 before anything is recorded, or (when
    // SQLite still had room for its start) applied but reported failed because its end could
    // not be recorded. Never a 500, and never a success it could not record.
    fill(&mount);
    let current = |view: &Value| view["revision"].as_i64().unwrap();
    let mut outcome = None;
    for replicas in 2..40 {
        let (_, view) = berth.get(&base).await;
        let (status, body) = change(&berth, &base, current(&view), replicas).await;
        match (status, body["status"].as_str()) {
            (200, Some("succeeded")) => continue,
            (503, _) => {
                let message = body["message"].as_str().unwrap_or_default();
                assert!(message.contains("cannot take writes"), "{body}");
                outcome = Some("refused with 503");
            }
            (200, Some("failed")) => {
                let message = body["message"].as_str().unwrap_or_default();
                assert!(message.contains("could not be recorded"), "{body}");
                outcome = Some("applied, reported failed: its end could not be recorded");
            }
            other => panic!("a change on a full disk answered {other:?}: {body}"),
        }
        break;
    }
    let outcome = outcome.expect("a full disk stopped a change");

    // Reads work, and history is whole.
    let (status, list) = berth.get(&format!("{base}/revisions")).await;
    assert_eq!(status, 200, "{list}");
    let (status, _) = berth.get(&base).await;
    assert_eq!(status, 200);

    // Space is freed; after a restart (which marks anything left running interrupted) a change
    // applies, and every revision is succeeded but at most the one stopped, interrupted.
    std::fs::remove_file(mount.join("filler")).expect("free the space");
    berth.kill();
    berth.restart().await;
    let (_, view) = berth.get(&base).await;
    let revision = current(&view);
    let (status, op) = change(&berth, &base, revision, 1).await;
    assert_eq!((status, &op["status"]), (200, &json!("succeeded")), "{op}");
    let (status, list) = berth.get(&format!("{base}/revisions")).await;
    assert_eq!(status, 200, "{list}");
    let statuses: Vec<&str> = list["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.iter().filter(|s| **s != "succeeded").count() <= 1
            && statuses
                .iter()
                .all(|s| ["succeeded", "interrupted"].contains(s)),
        "{statuses:?}"
    );
    eprintln!(
        "a full disk: {outcome}; after freeing space, revision {} applied",
        revision + 1
    );
    berth.kill();
    drop(tmpfs);
    ns.delete().await;
}
