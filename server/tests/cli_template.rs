//! `berth template render` and `berth template check` as scripts use them: stdout, stderr and
//! exit codes.

use std::process::Command;

fn berth(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const POSTHOG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../manifests/posthog/index.yaml"
);

/// `berth template render` of PostHog with a fixed seed, name and namespace.
const SEEDED_RENDER: [&str; 9] = [
    "template",
    "render",
    POSTHOG,
    "--seed",
    "3",
    "--name",
    "ph",
    "--platform-value",
    "SEALOS_NAMESPACE=ns-x",
];

fn temp_file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("berth-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn render_prints_multi_document_yaml_reproducibly() {
    let (code, out, err) = berth(&SEEDED_RENDER);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<serde_json::Value> = out
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_saphyr::from_str(d).expect("each document is YAML"))
        .collect();
    assert!(docs.len() >= 30);
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["name"].as_str().is_some_and(|n| n == "ph"
                || n.starts_with("ph-")
                || n.starts_with("object-storage-key-x-ph")))
    );
    let (_, again, _) = berth(&SEEDED_RENDER);
    assert_eq!(out, again);
    let (_, sealos, _) = berth(&[
        "template",
        "render",
        POSTHOG,
        "--seed",
        "3",
        "--input",
        "platform=sealos",
    ]);
    assert!(sealos.contains("kind: ObjectStorageBucket"));
}

#[test]
fn check_lists_the_inputs() {
    let (code, out, err) = berth(&["template", "check", POSTHOG]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": ok (posthog,"), "{out}");
    assert!(
        out.contains(
            "platform (choice, required, default \"kubernetes\", one of kubernetes|sealos)"
        ),
        "{out}"
    );
}

#[test]
fn bad_templates_and_inputs_exit_non_zero_with_the_error_on_stderr() {
    let (code, out, err) = berth(&[
        "template",
        "render",
        POSTHOG,
        "--input",
        "platform=openshift",
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("input `platform`: expected one of kubernetes, sealos, got \"openshift\""),
        "{err}"
    );

    let broken = temp_file(
        "broken.yaml",
        "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: b\nspec:\n  title: B\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.nope }}\n",
    );
    let (code, _, err) = berth(&["template", "check", "--strict", &broken]);
    assert_eq!(code, 1);
    assert!(
        err.contains("line 11: expression `defaults.nope` failed"),
        "{err}"
    );
    let (code, _, err) = berth(&["template", "check", &broken]);
    assert_eq!(code, 1, "rendered as Sealos does, the name is empty");
    assert!(
        err.contains("warning: ")
            && err.contains("line 11: expression `defaults.nope` is undefined; rendered as \"\""),
        "{err}"
    );
    assert!(err.contains("metadata.name"), "{err}");

    let (code, _, err) = berth(&["template", "render", "/nonexistent.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent.yaml"), "{err}");

    let (code, _, err) = berth(&["template", "render", POSTHOG, "--input", "novalue"]);
    assert_eq!(code, 2, "clap usage error");
    assert!(err.contains("expected name=value"), "{err}");
}

#[test]
fn an_undeclared_input_renders_as_sealos_renders_it_with_a_warning_unless_strict() {
    let file = temp_file(
        "undeclared.yaml",
        "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: u\nspec:\n  title: U\n  defaults:\n    app_name:\n      type: string\n      value: u\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}\ndata:\n  token: \"${{ inputs.TOKEN }}\"\n  port: \"${{ SEALOS_CLOUD_PORT }}\"\n",
    );
    for command in ["render", "check"] {
        let (code, out, err) = berth(&["template", command, &file]);
        assert_eq!(code, 0, "{command}: {err}");
        assert!(
            err.contains(&format!(
                "warning: {file}: line 17: expression `inputs.TOKEN` is undefined; rendered as \"\""
            )),
            "{command}: {err}"
        );
        assert!(
            err.contains("line 18: expression `SEALOS_CLOUD_PORT` failed: ReferenceError"),
            "{command}: {err}"
        );
        if command == "render" {
            let doc: serde_json::Value =
                serde_saphyr::from_str(out.trim_start_matches("---\n")).expect("YAML");
            assert_eq!(doc["data"]["token"], "");
            assert_eq!(doc["data"]["port"], "");
        }
        let (code, out, err) = berth(&["template", command, "--strict", &file]);
        assert_eq!(code, 1, "{command} --strict");
        assert!(out.is_empty());
        assert!(
            err.contains("line 17: expression `inputs.TOKEN` failed"),
            "{command} --strict: {err}"
        );
    }
}
