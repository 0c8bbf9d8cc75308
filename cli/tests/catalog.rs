//! `eventctl asyncapi` and `eventctl docs` on the real catalog, checked by the tools a person
//! would use: the AsyncAPI project's parser (`@asyncapi/parser`, zero diagnostics) and
//! headless Chromium (`scripts/catalog-check/browser-test.mjs`). Both need `node` and
//! `npm ci` in `scripts/catalog-check` (`.ci/run` does both), and the browser test needs
//! Chromium: a missing tool fails the test, it never skips. Screenshots land in
//! `target/catalog-screenshots/` (CI artifacts).
//!
//! Also: bad `services.json` input is reported by `eventctl lint` with rule, file and
//! pointer, and by `eventctl asyncapi`/`docs` with exit code 1.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn eventctl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eventctl"))
        .args(args)
        .output()
        .expect("eventctl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a script of `scripts/catalog-check` with node; panics with its output on failure.
fn node(script: &str, args: &[&str]) -> String {
    let dir = root().join("scripts/catalog-check");
    assert!(
        dir.join("node_modules/@asyncapi/parser").is_dir()
            && dir.join("node_modules/puppeteer-core").is_dir(),
        "scripts/catalog-check/node_modules is missing: run `npm ci` there (bash .ci/run does)"
    );
    let out = Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .output()
        .expect("`node` must be installed (Node.js 18+; bash .ci/run checks it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{text}");
    text
}

fn out_dir(name: &str) -> PathBuf {
    let d = root().join("target/catalog-test").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create target/catalog-test");
    d
}

#[test]
fn asyncapi_passes_the_asyncapi_parser_in_yaml_and_json() {
    let dir = out_dir("asyncapi");
    let schemas = root().join("schemas");
    for (format, file) in [("yaml", "asyncapi.yaml"), ("json", "asyncapi.json")] {
        let path = dir.join(file);
        let (code, _, err) = eventctl(&[
            "asyncapi",
            "--schemas",
            schemas.to_str().unwrap(),
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        let report = node("validate-asyncapi.mjs", &[path.to_str().unwrap()]);
        assert!(report.contains("0 diagnostics"), "{report}");
        // 7 topics, 15 event versions, the (service, action, topic) operations.
        assert!(report.contains("(7 channels, 15 messages,"), "{report}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("asyncapi.json")).unwrap()).unwrap();
    assert_eq!(json["asyncapi"], "3.0.0");
    let ch = &json["channels"]["patient-events"];
    assert_eq!(ch["address"], "patient-events");
    assert_eq!(ch["bindings"]["kafka"]["partitions"], 3);
    assert_eq!(ch["x-dead-letter-topic"], "patient-events.dlq");
    let msg = &json["components"]["messages"]["patient.created.v2"];
    assert_eq!(msg["name"], "patient.created");
    for h in ["event_type", "version", "event_id", "traceparent"] {
        assert!(msg["headers"]["properties"].get(h).is_some(), "header {h}");
    }
    assert_eq!(msg["headers"]["properties"]["version"]["const"], "2");
    assert_eq!(
        msg["payload"]["properties"]["event_type"]["const"],
        "patient.created"
    );
    assert_eq!(
        msg["payload"]["properties"]["payload"]["$ref"],
        "#/components/schemas/patient.created.v2"
    );
    assert_eq!(msg["bindings"]["kafka"]["key"]["x-kafka-key"], "patient_id");
    assert_eq!(msg["examples"].as_array().map(Vec::len), Some(3));
    let payload = &json["components"]["schemas"]["patient.created.v2"];
    assert_eq!(payload["properties"]["name"]["x-pii"], true);
    assert_eq!(
        payload["properties"]["name"]["$ref"],
        "#/components/schemas/common.person_name"
    );
    assert_eq!(
        json["components"]["schemas"]["common.contact"]["properties"]["email"]["x-pii"],
        true
    );
    let op = &json["operations"]["patient-service_send_patient-events"];
    assert_eq!(op["action"], "send");
    assert_eq!(op["messages"].as_array().map(Vec::len), Some(4));
    let op = &json["operations"]["matching-service_receive_patient-events"];
    assert_eq!(op["action"], "receive");
}

#[test]
fn docs_site_passes_the_browser_test() {
    let site = out_dir("site");
    let schemas = root().join("schemas");
    let (code, _, err) = eventctl(&[
        "docs",
        "--schemas",
        schemas.to_str().unwrap(),
        "--out",
        site.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote 23 page(s)"), "{err}");
    let shots = root().join("target/catalog-screenshots");
    let report = node(
        "browser-test.mjs",
        &[
            "--site",
            site.to_str().unwrap(),
            "--schemas",
            schemas.to_str().unwrap(),
            "--shots",
            shots.to_str().unwrap(),
        ],
    );
    assert!(report.contains("checks passed"), "{report}");
    for shot in ["index.png", "patient.created.v2.png"] {
        let len = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 10_000, "{shot}: {len} bytes");
    }
}

#[test]
fn docs_output_is_deterministic() {
    let schemas = root().join("schemas");
    let (a, b) = (out_dir("det-a"), out_dir("det-b"));
    for d in [&a, &b] {
        let (code, _, err) = eventctl(&[
            "docs",
            "--schemas",
            schemas.to_str().unwrap(),
            "--out",
            d.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    for page in [
        "index.html",
        "events/patient.created.v2.html",
        "services.svg",
    ] {
        assert_eq!(
            std::fs::read(a.join(page)).unwrap(),
            std::fs::read(b.join(page)).unwrap(),
            "{page}"
        );
    }
}

/// A copy of the catalog whose `services.json` is replaced by `services`.
fn catalog_with_services(services: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(root().join("schemas"))
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(tmp.path().join("schemas/services.json"), services).unwrap();
    tmp
}

#[test]
fn lint_checks_services_json() {
    let original = std::fs::read_to_string(root().join("schemas/services.json")).unwrap();
    // An unknown event type, and patient.deleted no longer sent by anyone.
    let edited = original
        .replacen("\"match.status_changed\"]", "\"match.status_chnged\"]", 1)
        .replacen("\"patient.deleted\", \"email.send\"", "\"email.send\"", 1);
    assert_ne!(edited, original);
    let tmp = catalog_with_services(&edited);
    let dir = tmp.path().join("schemas");
    let (code, out, err) = eventctl(&["lint", "--schemas", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error[service-event-unknown]")
            && out.contains("services.json:10:20")
            && out.contains("(#/services/0/receives/0)")
            && out.contains("`match.status_chnged`"),
        "{out}"
    );
    assert!(
        out.contains("error[event-sender-missing]") && out.contains("`patient.deleted`"),
        "{out}"
    );

    // An envelope example naming a service that does not exist.
    let tmp = catalog_with_services(&original.replace("matching-service", "matcher-service"));
    let dir = tmp.path().join("schemas");
    let (code, out, _) = eventctl(&["lint", "--schemas", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[service-unknown]")
            && out.contains("envelope.json")
            && out.contains("(#/examples/1/producer)"),
        "{out}"
    );

    // Malformed: a typo'd key. lint reports it; asyncapi and docs refuse with file + pointer.
    let tmp = catalog_with_services(&original.replacen("\"sends\"", "\"send\"", 1));
    let dir = tmp.path().join("schemas");
    let (code, out, _) = eventctl(&["lint", "--schemas", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[services-invalid]") && out.contains("(#/services/0/send)"),
        "{out}"
    );
    for cmd in [
        vec!["asyncapi", "--schemas", dir.to_str().unwrap()],
        vec![
            "docs",
            "--schemas",
            dir.to_str().unwrap(),
            "--out",
            tmp.path().join("site").to_str().unwrap(),
        ],
    ] {
        let (code, _, err) = eventctl(&cmd);
        assert_eq!(code, 1, "{cmd:?}: {err}");
        assert!(
            err.contains("services.json: /services/0/send: unknown key"),
            "{cmd:?}: {err}"
        );
    }
    assert!(
        !tmp.path().join("site").exists(),
        "nothing written on error"
    );
}
