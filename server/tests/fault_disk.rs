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

    // Fill the disk; changes are refused with 503 (perhaps after a few that still fit).
    fill(&mount);
    let mut revision = 1;
    let mut refused = None;
    for replicas in 2..40 {
        let (status, body) = change(&berth, &base, revision, replicas).await;
        match status {
            200 => revision = body["revision"].as_i64().unwrap(),
            503 => {
                refused = Some(body);
                break;
            }
            other => panic!("a change on a full disk answered {other}: {body}"),
        }
    }
    let refused = refused.expect("a full disk refused a change");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("cannot take writes"),
        "{refused}"
    );

    // Reads work; history is whole, and the refused change added nothing.
    let (status, list) = berth.get(&format!("{base}/revisions")).await;
    assert_eq!(status, 200, "{list}");
    let revisions = list["revisions"].as_array().unwrap();
    assert_eq!(revisions.last().unwrap()["number"], revision, "{list}");
    assert!(
        revisions.iter().all(|r| r["status"] == "succeeded"),
        "{list}"
    );
    let (status, _) = berth.get(&base).await;
    assert_eq!(status, 200);

    // Space is freed: changes work again, and the next start is clean.
    std::fs::remove_file(mount.join("filler")).expect("free the space");
    let (status, op) = change(&berth, &base, revision, 1).await;
    assert_eq!((status, &op["status"]), (200, &json!("succeeded")), "{op}");
    berth.kill();
    berth.restart().await;
    let (status, list) = berth.get(&format!("{base}/revisions")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        list["revisions"].as_array().unwrap().last().unwrap()["number"],
        revision + 1
    );
    eprintln!(
        "a full disk refused the change after revision {revision}; after freeing space, revision {} applied",
        revision + 1
    );
    berth.kill();
    drop(tmpfs);
    ns.delete().await;
}
