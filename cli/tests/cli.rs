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
