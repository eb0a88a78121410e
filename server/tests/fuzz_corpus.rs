//! The fuzz targets' committed corpora (`server/fuzz/corpus/<target>/`), replayed through the
//! same entry points cargo-fuzz drives: none may panic. Campaigns themselves run with
//! `cargo +nightly fuzz run <target>` in `server/fuzz` (see README); this is their smoke test.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{target} has a corpus");
    for file in &files {
        run(&std::fs::read(file).expect("readable"));
    }
    println!("fuzz corpus {target}: {} inputs replayed", files.len());
}

#[test]
fn render_corpus() {
    replay("render", berth::fuzzing::render);
}

#[test]
fn quantity_corpus() {
    replay("quantity", berth::fuzzing::quantity);
}

#[test]
fn edits_corpus() {
    replay("edits", berth::fuzzing::edits);
}

#[test]
fn intent_corpus() {
    replay("intent", berth::fuzzing::intent);
}
