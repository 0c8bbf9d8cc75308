//! The `docs` profile of `docker-compose.yml` serves exactly what `eventctl docs` writes
//! (static check, no Docker needed): a pinned static web server image, the site directory
//! CI generates mounted read-only, and a healthcheck that fails until `index.html` exists.

use serde_norway::Value;
use std::path::Path;

#[test]
fn docs_profile_serves_the_generated_site_with_a_pinned_image() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker-compose.yml");
    let text = std::fs::read_to_string(&path).expect("docker-compose.yml is readable");
    let compose: Value = serde_norway::from_str(&text).expect("valid YAML");
    let docs = &compose["services"]["docs"];
    assert!(docs.is_mapping(), "no `docs` service");
    let image = docs["image"].as_str().expect("image");
    let tag = image.split_once(':').map(|(_, t)| t).unwrap_or("");
    assert!(
        tag.chars().next().is_some_and(|c| c.is_ascii_digit()) && tag.matches('.').count() >= 2,
        "image {image} must be pinned to a full version"
    );
    assert_eq!(
        docs["profiles"][0].as_str(),
        Some("docs"),
        "only with --profile docs"
    );
    let volumes: Vec<&str> = docs["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        volumes.contains(&"./target/catalog/site:/usr/share/nginx/html:ro"),
        "{volumes:?}"
    );
    // The directory .ci/run and the README generate into.
    let ci = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/run"))
        .expect(".ci/run");
    assert!(ci.contains("docs --out target/catalog/site"));
    let test: Vec<&str> = docs["healthcheck"]["test"]
        .as_sequence()
        .expect("healthcheck.test")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        test.last().is_some_and(|u| u.ends_with("/index.html")),
        "{test:?}"
    );
}
