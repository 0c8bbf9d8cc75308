//! `eventctl new`: `examples/service-template` is exactly what it writes, dependencies point
//! at a local checkout (relative paths) or a git URL, `--outbox` only adds files and template
//! blocks, and bad input is a usage error (exit 2) that writes nothing. Building and testing a scaffolded crate outside the workspace is
//! `scripts/scaffold-check` (run by `.ci/run`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn eventctl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eventctl"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file below `dir` (relative, `/`-separated), skipping build output.
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "target" || rel == "spool" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// A directory that passes for a toolkit checkout (the two crates the service depends on).
fn fake_toolkit(dir: &Path) {
    for member in ["runtime", "codegen"] {
        std::fs::create_dir_all(dir.join(member)).unwrap();
        std::fs::write(dir.join(member).join("Cargo.toml"), "[package]\n").unwrap();
    }
}

#[test]
fn the_service_template_is_what_new_writes() {
    // Same relative position to the toolkit as in this repository, so the paths agree.
    let tmp = tempfile::tempdir().unwrap();
    fake_toolkit(tmp.path());
    let out = tmp.path().join("examples/service-template");
    let (code, stdout, err) = eventctl(&[
        "new",
        out.to_str().unwrap(),
        "--name",
        "service-template",
        "--toolkit-path",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");

    let committed = repo_root().join("examples/service-template");
    let written = files(&out);
    assert!(
        written.contains("build.rs") && written.contains("Dockerfile"),
        "{written:?}"
    );
    assert_eq!(
        written,
        files(&committed),
        "examples/service-template has files `eventctl new` does not write (or lacks some)"
    );
    for f in &written {
        let expected = std::fs::read_to_string(out.join(f)).unwrap();
        let actual = std::fs::read_to_string(committed.join(f)).unwrap();
        assert!(
            expected == actual,
            "examples/service-template/{f} differs from what `eventctl new` writes; regenerate: \
             rm -r examples/service-template && cargo run -p pmp-eventctl -- new \
             examples/service-template --name service-template --toolkit-path ."
        );
    }
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(
            r#"pmp-event-runtime = { path = "../../runtime", features = ["http", "logging"] }"#
        ),
        "{manifest}"
    );
    assert!(
        !manifest.contains("[workspace]"),
        "a crate inside the toolkit joins its workspace"
    );
    let dockerfile = std::fs::read_to_string(out.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("--manifest-path examples/service-template/Cargo.toml"));
}

#[test]
fn outside_the_toolkit_the_crate_is_standalone_with_relative_path_dependencies() {
    let tmp = tempfile::tempdir().unwrap();
    let toolkit = tmp.path().join("checkouts/pmp-events");
    fake_toolkit(&toolkit);
    let out = tmp.path().join("services/patient-service");
    let (code, _, err) = eventctl(&[
        "new",
        out.to_str().unwrap(),
        "--name",
        "patient-service",
        "--toolkit-path",
        toolkit.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(r#"pmp-event-codegen = { path = "../../checkouts/pmp-events/codegen" }"#),
        "{manifest}"
    );
    assert!(
        manifest.contains("name = \"patient_service\""),
        "{manifest}"
    );
    assert!(manifest.trim_end().ends_with("[workspace]"), "{manifest}");
    let main = std::fs::read_to_string(out.join("src/main.rs")).unwrap();
    assert!(main.contains("use patient_service::{AnyEvent"), "{main}");
    let dockerfile = std::fs::read_to_string(out.join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("--manifest-path ./Cargo.toml"),
        "{dockerfile}"
    );
    // The committed example event and its topic come along; the tests read them crate-relative.
    assert!(out
        .join("schemas/events/appointment.requested/v1.json")
        .is_file());
    let topics_test = std::fs::read_to_string(out.join("tests/topics.rs")).unwrap();
    assert!(topics_test.contains("env!(\"CARGO_MANIFEST_DIR\")"));
}

#[test]
fn git_dependencies_by_default_with_a_placeholder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("svc");
    let (code, stdout, err) = eventctl(&["new", out.to_str().unwrap(), "--name", "svc"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("placeholder"), "{stdout}");
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("pmp-event-runtime = { git = \"https://git.example.invalid/REPLACE-ME/pmp-events.git\", features = [\"http\", \"logging\"] }"), "{manifest}");

    let out2 = tmp.path().join("svc2");
    let url = "https://git.example.org/platform/pmp-events.git";
    let (code, stdout, err) = eventctl(&[
        "new",
        out2.to_str().unwrap(),
        "--name",
        "svc2",
        "--git",
        url,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!stdout.contains("placeholder"), "{stdout}");
    let manifest = std::fs::read_to_string(out2.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("pmp-event-codegen = {{ git = \"{url}\" }}")),
        "{manifest}"
    );
}

/// Whether every line of `base` appears in `extended`, in order (the variant only adds lines).
fn only_adds_lines(base: &str, extended: &str) -> bool {
    let mut lines = extended.lines();
    base.lines().all(|wanted| lines.any(|line| line == wanted))
}

#[test]
fn outbox_variant_adds_its_files_and_blocks_and_changes_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let toolkit = tmp.path().join("pmp-events");
    fake_toolkit(&toolkit);
    let toolkit_s = toolkit.to_str().unwrap();

    // Without outbox/ the toolkit checkout cannot serve --outbox.
    let out = tmp.path().join("svc-outbox");
    let out_s = out.to_str().unwrap();
    let args = [
        "new",
        out_s,
        "--name",
        "svc-outbox",
        "--toolkit-path",
        toolkit_s,
    ];
    let (code, _, err) = eventctl(&[&args[..], &["--outbox"]].concat());
    assert_eq!(code, 2);
    assert!(err.contains("outbox/Cargo.toml not found"), "{err}");
    assert!(!out.exists());

    std::fs::create_dir_all(toolkit.join("outbox")).unwrap();
    std::fs::write(toolkit.join("outbox/Cargo.toml"), "[package]\n").unwrap();
    let (code, stdout, err) = eventctl(&[&args[..], &["--outbox"]].concat());
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("DATABASE_URL"), "{stdout}");
    let plain = tmp.path().join("svc-plain");
    let (code, _, err) = eventctl(&[
        "new",
        plain.to_str().unwrap(),
        "--name",
        "svc-outbox",
        "--toolkit-path",
        toolkit_s,
    ]);
    assert_eq!(code, 0, "{err}");

    let outbox_only = [
        "migrations/0001_appointments.sql",
        "src/db.rs",
        "src/outbox_commands.rs",
        "tests/outbox.rs",
    ];
    let mut expected = files(&plain);
    expected.extend(outbox_only.map(str::to_owned));
    assert_eq!(files(&out), expected);

    // Shared files: the same, or the same plus the `{% if outbox %}` blocks.
    let with_blocks = ["Cargo.toml", "README.md", "src/lib.rs", "src/main.rs"];
    for f in files(&plain) {
        let base = std::fs::read_to_string(plain.join(&f)).unwrap();
        let variant = std::fs::read_to_string(out.join(&f)).unwrap();
        if with_blocks.contains(&f.as_str()) {
            assert!(base != variant, "{f}: no outbox block rendered");
            assert!(
                only_adds_lines(&base, &variant),
                "{f}: --outbox changed lines"
            );
        } else {
            assert!(base == variant, "{f} differs with --outbox");
        }
    }

    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    let manifest = read("Cargo.toml");
    assert!(
        manifest.contains(r#"pmp-event-outbox = { path = "../pmp-events/outbox" }"#),
        "{manifest}"
    );
    assert!(
        manifest.contains("sqlx = { version = \"0.8\""),
        "{manifest}"
    );
    let main = read("src/main.rs");
    assert!(main.contains("\nmod outbox_commands;\n"), "{main}");
    assert!(
        main.contains("Command::Outbox(command) => outbox_commands::run(command, service).await"),
        "{main}"
    );
    assert!(read("src/lib.rs").ends_with("\npub mod db;\n"));
    let commands = read("src/outbox_commands.rs");
    assert!(commands.contains("use svc_outbox::db;"), "{commands}");
    assert!(commands.contains("Relay::start::<AnyEvent>"), "{commands}");
    assert!(commands.contains(".on_tx::<AppointmentRequestedV1, _>(&inbox, db::count_request)"));
    let db = read("src/db.rs");
    assert!(db.contains(r#"include_str!("../migrations/0001_appointments.sql")"#));
    assert!(db.contains("outbox.stage(tx, request)"), "{db}");
    let migration = repo_root().join("cli/templates/service/migrations/0001_appointments.sql");
    assert_eq!(
        read("migrations/0001_appointments.sql"),
        std::fs::read_to_string(migration).unwrap()
    );
    let test = read("tests/outbox.rs");
    assert!(
        test.contains("use svc_outbox::db::{self, RequestError};"),
        "{test}"
    );
    assert!(
        test.contains("DATABASE_URL is not set"),
        "the test must fail without a database"
    );
    assert!(
        !test.contains("{{") && !test.contains("{%"),
        "unrendered template syntax"
    );
    assert!(read("README.md").contains("## Database and events together (`--outbox`)"));

    // With git dependencies, the outbox crate comes from the same repository.
    let git = tmp.path().join("svc-git");
    let url = "https://git.example.org/platform/pmp-events.git";
    let (code, _, err) = eventctl(&[
        "new",
        git.to_str().unwrap(),
        "--name",
        "svc-git",
        "--git",
        url,
        "--outbox",
    ]);
    assert_eq!(code, 0, "{err}");
    let manifest = std::fs::read_to_string(git.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("pmp-event-outbox = {{ git = \"{url}\" }}")),
        "{manifest}"
    );
}

#[test]
fn bad_input_is_a_usage_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("svc");
    let out_s = out.to_str().unwrap();

    let (code, _, err) = eventctl(&["new", out_s, "--name", "Bad Name"]);
    assert_eq!(code, 2);
    assert!(err.contains("--name `Bad Name`"), "{err}");
    assert!(!out.exists(), "nothing is written for a bad name");

    let not_toolkit = tmp.path().join("empty");
    std::fs::create_dir(&not_toolkit).unwrap();
    let (code, _, err) = eventctl(&[
        "new",
        out_s,
        "--name",
        "svc",
        "--toolkit-path",
        not_toolkit.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("runtime/Cargo.toml not found"), "{err}");
    assert!(!out.join("Cargo.toml").exists());

    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let (code, _, err) = eventctl(&["new", out_s, "--name", "svc"]);
    assert_eq!(code, 2);
    assert!(err.contains("exists and is not empty"), "{err}");
    assert_eq!(files(&out), BTreeSet::from(["keep.txt".to_owned()]));

    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let (code, _, err) = eventctl(&["new", file.to_str().unwrap(), "--name", "svc"]);
    assert_eq!(code, 2);
    assert!(err.contains("is a file, expected a directory"), "{err}");
}
