//! Command-line surface: `topics render|check|apply` (and the earlier flags), `apply` without
//! the `kafka` feature, shell completions, "is a file, expected a directory" errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn eventctl(args: &[&str]) -> (i32, String, String) {
    eventctl_in(Path::new("."), args)
}

fn eventctl_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eventctl"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

const CATALOG: &str = r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1, "config": {}},
    "topics": [{"name": "a-events", "partitions": 2, "config": {"cleanup.policy": "delete"}}]}"#;

#[test]
fn topics_subcommands_and_the_earlier_flags_agree() {
    let dir = tempfile::tempdir().unwrap();
    let topics = dir.path().join("topics.json");
    std::fs::write(&topics, CATALOG).unwrap();
    let t = topics.to_str().unwrap();
    let (code, rendered, err) = eventctl(&["topics", "--topics", t, "render"]);
    assert_eq!(code, 0, "{err}");
    assert!(rendered.contains("'a-events' 2"), "{rendered}");
    let (code, old_form, _) = eventctl(&["topics", "--topics", t, "--format", "sh"]);
    assert_eq!(code, 0);
    assert_eq!(old_form, rendered);

    let script = dir.path().join("create-topics.sh");
    let s = script.to_str().unwrap();
    let (code, _, err) = eventctl(&["topics", "--topics", t, "check", "--script", s]);
    assert_eq!(code, 1, "a missing script fails the check");
    assert!(err.contains("missing"), "{err}");
    std::fs::write(&script, &rendered).unwrap();
    assert_eq!(
        eventctl(&["topics", "--topics", t, "check", "--script", s]).0,
        0
    );
    assert_eq!(
        eventctl(&["topics", "--topics", t, "--check", "--script", s]).0,
        0
    );
    std::fs::write(&script, rendered.replace("'a-events' 2", "'a-events' 3")).unwrap();
    assert_eq!(
        eventctl(&["topics", "--topics", t, "check", "--script", s]).0,
        1
    );
    assert_eq!(
        eventctl(&["topics", "--topics", t, "--check", "--script", s]).0,
        1
    );

    // The repository's own script, as CI checks it (from the root, with the defaults).
    let (code, _, err) = eventctl_in(&repo(""), &["topics", "check"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_directory_where_the_topic_catalog_belongs_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = eventctl(&["topics", "--topics", dir.path().to_str().unwrap(), "render"]);
    assert_eq!(code, 2);
    assert!(err.contains("is a directory, expected a file"), "{err}");
}

#[cfg(not(feature = "kafka"))]
#[test]
fn apply_without_the_kafka_feature_names_the_feature() {
    let topics = repo("schemas/topics.json");
    let (code, _, err) = eventctl(&[
        "topics",
        "--topics",
        topics.to_str().unwrap(),
        "apply",
        "--bootstrap-servers",
        "127.0.0.1:9",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("`kafka` feature"), "{err}");
    assert!(err.contains("--features kafka"), "{err}");
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef eventctl"),
        ("fish", "complete -c eventctl"),
    ] {
        let (code, out, err) = eventctl(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(marker), "{shell}: no `{marker}`");
        for sub in ["lint", "check", "compat", "topics", "new", "generate"] {
            assert!(out.contains(sub), "{shell}: subcommand {sub} missing");
        }
    }
    let (code, _, err) = eventctl(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("tcsh"), "{err}");
}

/// A lint-clean event schema; `examples` entries are given by the caller.
fn event(max: u64, examples: serde_json::Value) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pmp.example/schemas/events/order.paid/v1.json",
        "title": "Order paid", "description": "An order was paid.", "type": "object",
        "additionalProperties": false, "x-event-type": "order.paid", "x-event-version": 1,
        "x-kafka-topic": "orders", "x-kafka-key": "order_id", "required": ["order_id"],
        "properties": {"order_id": {"type": "integer", "minimum": 1, "maximum": max, "description": "id"}},
        "examples": examples,
    }))
    .unwrap()
}

/// `<tmp>/schemas` with topics.json and `events/order.paid/v1.json`.
fn catalog(examples: serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("schemas/events/order.paid");
    std::fs::create_dir_all(&events).unwrap();
    std::fs::write(
        dir.path().join("schemas/topics.json"),
        r#"{"topics": [{"name": "orders", "partitions": 1}]}"#,
    )
    .unwrap();
    std::fs::write(events.join("v1.json"), event(100, examples)).unwrap();
    dir
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn lint_json_has_a_summary_and_eventctl_toml_ignores_rules_per_path() {
    let dir = catalog(serde_json::json!([{"order_id": 1}]));
    let (code, out, err) = eventctl_in(dir.path(), &["lint", "--format", "JSON"]);
    assert_eq!(code, 1, "{err}");
    let doc = json(&out);
    assert_eq!(doc["summary"]["verdict"], "fail");
    assert_eq!(doc["summary"]["errors"], 1);
    assert_eq!(doc["summary"]["files"], 2);
    assert_eq!(doc["findings"][0]["rule"], "examples-too-few");

    // Ignored for this event type's directory only: clean.
    std::fs::write(
        dir.path().join("eventctl.toml"),
        "[lint.ignore_only]\nexamples-too-few = [\"schemas/events/order.paid\"]\n",
    )
    .unwrap();
    let (code, out, err) = eventctl_in(dir.path(), &["lint"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 ignored by eventctl.toml"), "{out}");

    // The same rule ignored for another path does not apply here.
    std::fs::create_dir_all(dir.path().join("schemas/events/other")).unwrap();
    std::fs::write(
        dir.path().join("eventctl.toml"),
        "[lint.ignore_only]\nexamples-too-few = [\"schemas/events/other\"]\n",
    )
    .unwrap();
    assert_eq!(eventctl_in(dir.path(), &["lint"]).0, 1);

    // `except` switches a rule off everywhere; `--config` names the file explicitly.
    let cfg = dir.path().join("lint.toml");
    std::fs::write(&cfg, "[lint]\nexcept = [\"examples-too-few\"]\n").unwrap();
    let (code, _, err) = eventctl_in(dir.path(), &["lint", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");

    // Typos are errors, never silent ignores.
    for (text, expected) in [
        (
            "[lint]\nexcept = [\"no-such-rule\"]\n",
            "unknown lint rule `no-such-rule`",
        ),
        (
            "[lint]\nignore = [\"schemas/nowhere\"]\n",
            "`schemas/nowhere` does not exist",
        ),
        ("[lint]\nexcpt = []\n", "excpt"),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let (code, _, err) = eventctl_in(dir.path(), &["lint", "--config", cfg.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}");
        assert!(err.contains(expected) && err.contains("lint.toml"), "{err}");
    }
}

#[test]
fn lint_reports_an_invalid_example() {
    let dir = catalog(serde_json::json!([{"order_id": 1}, {"order_id": -5, "coupon": "x"}]));
    let (code, out, _) = eventctl_in(dir.path(), &["lint"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[examples-invalid]") && out.contains("(#/examples/1)"),
        "{out}"
    );
}

#[test]
fn empty_catalogs_and_files_for_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("topics.json"), CATALOG).unwrap();
    let d = dir.path().to_str().unwrap();
    for cmd in ["lint", "check"] {
        let (code, _, err) = eventctl(&[cmd, "--schemas", d]);
        assert_eq!(code, 1, "{cmd}: an empty catalog checks nothing");
        assert!(err.contains("no schema files"), "{cmd}: {err}");

        let file = dir.path().join("topics.json");
        let (code, _, err) = eventctl(&[cmd, "--schemas", file.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(
            err.contains("is a file, expected a directory"),
            "{cmd}: {err}"
        );
    }
    let file = dir.path().join("topics.json");
    let (code, _, err) = eventctl(&[
        "generate",
        "--schemas",
        file.to_str().unwrap(),
        "--out",
        "-",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("is a file, expected a directory"), "{err}");
    let (code, _, err) = eventctl(&["generate", "--schema", d, "--out", "-"]);
    assert_eq!(code, 2);
    assert!(err.contains("is a directory, expected a file"), "{err}");
}

#[test]
fn compat_levels_ignore_case_and_github_and_json_formats() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    std::fs::write(&old, event(200, serde_json::json!([]))).unwrap();
    std::fs::write(&new, event(100, serde_json::json!([]))).unwrap();
    let (o, n) = (old.to_str().unwrap(), new.to_str().unwrap());
    for level in ["backward", "BACKWARD", "Full"] {
        let (code, out, err) = eventctl(&["compat", o, n, "--level", level]);
        assert_eq!(
            code, 1,
            "{level}: lowering a maximum is not backward compatible: {out}{err}"
        );
    }
    assert_eq!(eventctl(&["compat", o, n, "--level", "FORWARD"]).0, 0);

    let (code, out, _) = eventctl(&["compat", o, n, "--format", "github"]);
    assert_eq!(code, 1);
    let line = out.lines().find(|l| l.starts_with("::error ")).expect(&out);
    assert!(
        line.contains(&format!("file={}", n.replace(':', "%3A"))),
        "{line}"
    );
    assert!(line.contains("title=maximum-decreased"), "{line}");

    let (code, out, _) = eventctl(&["compat", o, n, "--format", "json"]);
    assert_eq!(code, 1);
    let doc = json(&out);
    assert_eq!(doc["summary"]["verdict"], "fail");
    assert_eq!(doc["summary"]["errors"], 1);
    let (code, out, _) = eventctl(&["compat", n, o, "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(json(&out)["summary"]["verdict"], "pass");
}

#[test]
fn check_json_has_a_summary() {
    let dir = catalog(serde_json::json!([{"order_id": 1}, {"order_id": 2}]));
    let (code, out, err) = eventctl_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    assert_eq!(doc["summary"]["verdict"], "pass");
    assert_eq!(doc["summary"]["errors"], 0);
    assert_eq!(doc["summary"]["files"], 2);
    assert!(
        doc["comparisons"].is_array(),
        "the report's fields stay: {doc}"
    );
}
