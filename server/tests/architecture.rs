//! Dependencies point one way: `http` → `service` → (`plan`, `apply`, `health`, `store`,
//! `template`, …) → `kube`, never back. This reads the sources (tests aside) and checks that each
//! top-level module of `server/src` uses only the modules allowed below it, and that no source
//! file is over 600 lines.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Each module and the modules it may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("kube", &[]),
    ("config", &[]),
    ("store", &["kube"]),
    ("template", &["config", "advice"]),
    // Troubleshooting rules and scale guidance: data, and pure evaluation over what health sees.
    ("advice", &["kube"]),
    ("components", &["kube"]),
    ("manifest", &["kube"]),
    ("health", &["kube"]),
    ("apply", &["kube", "manifest"]),
    (
        "plan",
        &["components", "kube", "manifest", "store", "template"],
    ),
    ("templates", &["template"]),
    ("cli", &["template", "auth", "store"]),
    ("auth", &["store"]),
    // The change box's parser is pure: it knows the shared types and nothing else.
    ("intent", &[]),
    // The change box's optional language model: an HTTP client that reads typed edits.
    ("llm", &[]),
    (
        "fuzzing",
        &["components", "intent", "plan", "service", "template"],
    ),
    (
        "service",
        &[
            "advice",
            "apply",
            "components",
            "config",
            "health",
            "intent",
            "kube",
            "llm",
            "manifest",
            "plan",
            "store",
            "template",
            "templates",
        ],
    ),
    ("error", &["service", "http", "apply", "store", "llm"]),
    (
        "http",
        &[
            "auth", "config", "error", "service", "state", "kube", "store",
        ],
    ),
    (
        "state",
        &[
            "apply",
            "auth",
            "config",
            "kube",
            "llm",
            "service",
            "store",
            "templates",
        ],
    ),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file belongs to: the first path component under `src/`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

/// The first name of each item at the top level of a `use` group, up to its closing brace.
fn top_level_names(group: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expecting = true,
            c if depth == 0 && expecting && (c.is_ascii_alphanumeric() || c == '_') => {
                current.push(c)
            }
            _ if depth == 0 && expecting && !current.is_empty() => {
                names.push(std::mem::take(&mut current));
                expecting = false;
            }
            _ => {}
        }
    }
    if !current.is_empty() {
        names.push(current);
    }
    names
}

#[test]
fn modules_only_use_the_modules_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, uses)| (*m, uses.iter().copied().collect()))
        .collect();
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if matches!(module.as_str(), "lib" | "main") || file.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable");
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("//") {
                    ""
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let uses = allowed
            .get(module.as_str())
            .unwrap_or_else(|| panic!("module `{module}` is not in ALLOWED"));
        for (i, line) in code.lines().enumerate() {
            for (at, _) in line.match_indices("crate::") {
                let used: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !used.is_empty() && used != module && !uses.contains(used.as_str()) {
                    violations.push(format!(
                        "{}:{}: `{module}` uses `{used}`",
                        file.display(),
                        i + 1
                    ));
                }
            }
        }
        // A `use crate::{a, b::{c, d}}` group names its modules at the top level of the braces.
        for group in code.split("use crate::{").skip(1) {
            for used in top_level_names(group) {
                if used != module && !uses.contains(used.as_str()) {
                    violations.push(format!("{}: `{module}` uses `{used}`", file.display()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports that point up:\n{}",
        violations.join("\n")
    );
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut files = Vec::new();
    for dir in ["src", "../app/src"] {
        sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).ok()?.lines().count();
            (n > 600).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by what they own: {long:?}");
}
