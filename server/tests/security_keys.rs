//! The sealing key. A database that holds sealed revisions and has lost its key refuses to start
//! (saying where the key should be) instead of making a new key that could never open them; the
//! key is never taken from the command line.

mod common;

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use berth::store::{RevisionState, Store};

fn serve(db: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["serve", "--addr", "127.0.0.1:0", "--db"])
        .arg(db)
        .arg("--kubeconfig")
        .arg(common::unreachable_kubeconfig())
        .env_remove("BERTH_SECRET_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth serve")
}

/// Waits up to `secs` for the process to end: its exit code and stderr, or None if still running.
fn ended(child: &mut std::process::Child, secs: u64) -> Option<(i32, String)> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return Some((status.code().unwrap_or(-1), err));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[tokio::test]
async fn a_database_with_sealed_revisions_and_no_key_refuses_to_start() {
    let dir = common::fresh_dir("keys");
    let db = dir.join("berth.db");
    let key = dir.join("berth.db.key");
    let store = Store::open_with_key(&db, None, &key).await.expect("open");
    assert!(key.exists(), "a new database gets a key");
    common::record_deploy(&store, "ns", "x", &RevisionState::default()).await;
    drop(store);
    let saved = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();

    let mut child = serve(&db);
    let (code, err) = ended(&mut child, 20).expect("berth stops by itself");
    assert_ne!(code, 0);
    assert!(
        err.contains(&key.display().to_string()) && err.contains("sealed"),
        "{err}"
    );
    assert!(!key.exists(), "no new key was made");

    // With the key back, it starts.
    std::fs::write(&key, saved).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut child = serve(&db);
    let still = ended(&mut child, 3);
    let _ = child.kill();
    let _ = child.wait();
    assert!(still.is_none(), "it runs: {still:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_key_is_never_taken_from_the_command_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "serve",
            "--secret-key",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--secret-key"));
}

#[tokio::test]
async fn rotating_the_key_reseals_every_revision_and_keeps_the_old_key_aside() {
    let dir = common::fresh_dir("rotate");
    let db = dir.join("berth.db");
    let key = dir.join("berth.db.key");
    let state = RevisionState {
        inputs: [("admin_password".to_string(), "rotate-me-123".to_string())].into(),
        ..Default::default()
    };
    let store = Store::open_with_key(&db, None, &key).await.unwrap();
    for name in ["a", "b"] {
        common::record_deploy(&store, "ns", name, &state).await;
    }
    drop(store);
    let before = std::fs::read_to_string(&key).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["key", "rotate", "--db"])
        .arg(&db)
        .env_remove("BERTH_SECRET_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-sealed 2 revisions"));
    let after = std::fs::read_to_string(&key).unwrap();
    assert_ne!(before, after, "a new key");
    assert_eq!(
        std::fs::read_to_string(dir.join("berth.db.key.old")).unwrap(),
        before
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let store = Store::open_with_key(&db, None, &key).await.unwrap();
    for name in ["a", "b"] {
        assert_eq!(*store.revision_state("ns", name, 1).await.unwrap(), state);
    }
    drop(store);
    std::fs::rename(dir.join("berth.db.key.old"), &key).unwrap();
    let old = Store::open_with_key(&db, None, &key).await.unwrap();
    assert!(
        old.revision_state("ns", "a", 1).await.is_err(),
        "the old key opens nothing"
    );
    let _ = std::fs::remove_dir_all(dir);
}
