//! Static checks of `docker-compose.yml` (no Docker needed): pinned images of the last
//! Confluent line with ZooKeeper, healthchecks that use the real check scripts, `depends_on`
//! conditions, volumes and the mounted topic setup script.

use std::path::Path;

use pmp_e2e_tests::repo_root;
use serde_norway::Value;

fn compose() -> Value {
    let path = repo_root().join("docker-compose.yml");
    let text = std::fs::read_to_string(&path).expect("docker-compose.yml is readable");
    serde_norway::from_str(&text).expect("docker-compose.yml is valid YAML")
}

fn service<'a>(c: &'a Value, name: &str) -> &'a Value {
    let s = &c["services"][name];
    assert!(s.is_mapping(), "service `{name}` is missing");
    s
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v:?}"))
}

/// `healthcheck.test`, or `command`/`entrypoint`, as a list of words.
fn words(v: &Value, what: &str) -> Vec<String> {
    match v {
        Value::Sequence(items) => items.iter().map(|i| str_of(i, what).to_owned()).collect(),
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        other => panic!("{what} is neither a list nor a string: {other:?}"),
    }
}

fn env<'a>(svc: &'a Value, key: &str) -> &'a Value {
    &svc["environment"][key]
}

fn env_str(svc: &Value, key: &str) -> String {
    match env(svc, key) {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("environment {key} missing or not a scalar: {other:?}"),
    }
}

fn volumes(svc: &Value) -> Vec<String> {
    svc["volumes"]
        .as_sequence()
        .map(|v| v.iter().map(|i| str_of(i, "volume").to_owned()).collect())
        .unwrap_or_default()
}

fn depends_condition(svc: &Value, on: &str) -> String {
    str_of(&svc["depends_on"][on]["condition"], "depends_on condition").to_owned()
}

/// Split `host:container[:mode]` and check the host side exists in the repository.
fn bind_mount(volumes: &[String], container_path: &str) -> (String, Option<String>) {
    let spec = volumes
        .iter()
        .find(|v| v.split(':').nth(1) == Some(container_path))
        .unwrap_or_else(|| panic!("no volume mounted at {container_path}: {volumes:?}"));
    let mut parts = spec.split(':');
    let host = parts.next().unwrap_or_default().to_owned();
    let mode = parts.nth(1).map(str::to_owned);
    assert!(
        host.starts_with("./"),
        "{spec} should bind a repository path"
    );
    assert!(
        repo_root().join(&host[2..]).exists(),
        "{spec}: {host} does not exist in the repository"
    );
    (host, mode)
}

#[test]
fn zookeeper_and_kafka_are_pinned_to_the_last_confluent_line_with_zookeeper() {
    let c = compose();
    let mut tags = Vec::new();
    for (name, repo) in [
        ("zookeeper", "confluentinc/cp-zookeeper"),
        ("kafka", "confluentinc/cp-kafka"),
        ("kafka-setup", "confluentinc/cp-kafka"),
    ] {
        let image = str_of(&service(&c, name)["image"], "image");
        let (r, tag) = image
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("{name}: image {image} has no tag"));
        assert_eq!(r, repo, "{name}");
        let parts: Vec<&str> = tag.split('.').collect();
        assert!(
            parts.len() == 3 && parts[0] == "7" && parts[1] == "9" && parts[2].chars().all(|c| c.is_ascii_digit()),
            "{name}: tag {tag} must be an exact 7.9.x release (7.x is the last line with ZooKeeper; \
             never `latest`, which is KRaft-only)"
        );
        tags.push(tag.to_owned());
    }
    tags.dedup();
    assert_eq!(
        tags.len(),
        1,
        "ZooKeeper, Kafka and kafka-setup must share one release: {tags:?}"
    );

    // No service may float on `latest` or an untagged image.
    for (name, svc) in c["services"].as_mapping().expect("services") {
        if let Some(image) = svc["image"].as_str() {
            assert!(
                image.contains(':') && !image.ends_with(":latest"),
                "{name:?}: image {image} is not pinned"
            );
        }
    }
}

#[test]
fn zookeeper_healthcheck_runs_srvr_check_script_and_whitelists_srvr() {
    let c = compose();
    let zk = service(&c, "zookeeper");
    let test = words(&zk["healthcheck"]["test"], "zookeeper healthcheck");
    assert_eq!(
        test[0], "CMD",
        "exec form, so the script's exit code is the health"
    );
    assert!(
        test.iter()
            .any(|w| w == "/healthcheck/zookeeper-healthcheck.sh"),
        "zookeeper healthcheck must run the srvr check script: {test:?}"
    );
    let (host, mode) = bind_mount(&volumes(zk), "/healthcheck");
    assert_eq!(host, "./docker/healthcheck");
    assert_eq!(mode.as_deref(), Some("ro"));
    let script =
        std::fs::read_to_string(repo_root().join("docker/healthcheck/zookeeper-healthcheck.sh"))
            .unwrap();
    assert!(script.contains("printf srvr"), "the check sends srvr");
    assert!(
        script.contains("Mode:"),
        "the check requires a serving mode"
    );
    // `srvr` must be whitelisted or the check can never pass.
    let opts = env_str(zk, "KAFKA_OPTS");
    assert!(
        opts.contains("-Dzookeeper.4lw.commands.whitelist=srvr"),
        "{opts}"
    );
    assert_eq!(env_str(zk, "ZOOKEEPER_CLIENT_PORT"), "2181");
    for key in ["interval", "timeout", "retries"] {
        assert!(
            !zk["healthcheck"][key].is_null(),
            "zookeeper healthcheck lacks {key}"
        );
    }
}

#[test]
fn kafka_healthcheck_uses_an_exit_code_that_reflects_the_broker() {
    let c = compose();
    let kafka = service(&c, "kafka");
    let test = words(&kafka["healthcheck"]["test"], "kafka healthcheck");
    assert_eq!(test[0], "CMD");
    assert!(
        test.iter()
            .any(|w| w == "/healthcheck/kafka-healthcheck.sh"),
        "kafka healthcheck must run the admin-request check: {test:?}"
    );
    assert!(
        !test.iter().any(|w| w.contains("kafka-broker-api-versions")),
        "kafka-broker-api-versions exits 0 even when it cannot connect"
    );
    bind_mount(&volumes(kafka), "/healthcheck");
    let script =
        std::fs::read_to_string(repo_root().join("docker/healthcheck/kafka-healthcheck.sh"))
            .unwrap();
    assert!(script.contains("--list"));
    assert!(!script
        .lines()
        .any(|l| !l.trim_start().starts_with('#') && l.contains("kafka-broker-api-versions")));
    // The check's bootstrap must be a listener the broker opens.
    let listeners = env_str(kafka, "KAFKA_LISTENERS");
    let port = test
        .last()
        .and_then(|b| b.rsplit_once(':'))
        .map(|(_, p)| p.to_owned())
        .unwrap();
    assert!(
        listeners.contains(&format!(":{port}")),
        "healthcheck port {port} not in {listeners}"
    );
}

#[test]
fn kafka_has_broker_id_internal_and_external_listeners_and_data_volumes() {
    let c = compose();
    let kafka = service(&c, "kafka");
    assert_eq!(env_str(kafka, "KAFKA_BROKER_ID"), "1");
    assert_eq!(env_str(kafka, "KAFKA_ZOOKEEPER_CONNECT"), "zookeeper:2181");
    let advertised = env_str(kafka, "KAFKA_ADVERTISED_LISTENERS");
    assert!(
        advertised.contains("INTERNAL://kafka:29092"),
        "{advertised}"
    );
    assert!(
        advertised.contains("EXTERNAL://localhost:9092"),
        "{advertised}"
    );
    assert_eq!(
        env_str(kafka, "KAFKA_INTER_BROKER_LISTENER_NAME"),
        "INTERNAL"
    );
    assert_eq!(env_str(kafka, "KAFKA_AUTO_CREATE_TOPICS_ENABLE"), "false");
    assert!(words(&kafka["ports"], "ports")
        .iter()
        .any(|p| p == "9092:9092"));

    let zk = service(&c, "zookeeper");
    let top: Vec<String> = c["volumes"]
        .as_mapping()
        .expect("top-level volumes")
        .keys()
        .map(|k| str_of(k, "volume name").to_owned())
        .collect();
    for (svc, path) in [
        (zk, "/var/lib/zookeeper/data"),
        (zk, "/var/lib/zookeeper/log"),
        (kafka, "/var/lib/kafka/data"),
    ] {
        let vols = volumes(svc);
        let spec = vols
            .iter()
            .find(|v| v.split(':').nth(1) == Some(path))
            .unwrap_or_else(|| panic!("no volume at {path}: {vols:?}"));
        let name = spec.split(':').next().unwrap();
        assert!(
            top.iter().any(|t| t == name),
            "volume {name} is not declared at top level"
        );
    }
}

#[test]
fn kafka_waits_for_healthy_zookeeper_and_setup_waits_for_healthy_kafka() {
    let c = compose();
    assert_eq!(
        depends_condition(service(&c, "kafka"), "zookeeper"),
        "service_healthy"
    );
    let setup = service(&c, "kafka-setup");
    assert_eq!(depends_condition(setup, "kafka"), "service_healthy");
    let restart = setup["restart"].as_str().unwrap_or("no");
    assert_eq!(restart, "no", "kafka-setup is a one-shot");
}

#[test]
fn kafka_setup_runs_the_mounted_generated_script() {
    let c = compose();
    let setup = service(&c, "kafka-setup");
    let (host, mode) = bind_mount(&volumes(setup), "/scripts/create-topics.sh");
    assert_eq!(host, "./docker/kafka/create-topics.sh");
    assert_eq!(mode.as_deref(), Some("ro"));
    let (template_host, template_mode) =
        bind_mount(&volumes(setup), "/scripts/service-template-topics.sh");
    assert_eq!(
        template_host,
        "./examples/service-template/create-topics.sh"
    );
    assert_eq!(template_mode.as_deref(), Some("ro"));
    // The entrypoint may be a `bash -c "a && b"` string: look at its shell words.
    let mut run = Vec::new();
    for key in ["entrypoint", "command"] {
        if !setup[key].is_null() {
            for w in words(&setup[key], key) {
                run.extend(w.split_whitespace().map(str::to_owned));
            }
        }
    }
    let position = |script: &str| run.iter().position(|w| w == script);
    let catalog = position("/scripts/create-topics.sh");
    let template = position("/scripts/service-template-topics.sh");
    assert!(
        catalog.is_some() && template.is_some(),
        "kafka-setup must run both scripts: {run:?}"
    );
    assert!(
        catalog < template,
        "the catalog's topics come first: {run:?}"
    );
    assert!(
        run.iter().any(|w| w == "&&"),
        "a failing first script must fail the setup: {run:?}"
    );
    assert_eq!(env_str(setup, "KAFKA_BOOTSTRAP_SERVERS"), "kafka:29092");
    assert_eq!(env_str(setup, "KAFKA_TOPICS_CMD"), "kafka-topics");
    assert!(env_str(setup, "KAFKA_REPLICATION_FACTOR").contains("KAFKA_REPLICATION_FACTOR"));
    let script = std::fs::read_to_string(repo_root().join(&host[2..])).unwrap();
    assert!(script.contains("GENERATED by `eventctl topics --format sh`"));
}

#[test]
fn example_services_start_after_healthy_kafka_and_completed_setup() {
    let c = compose();
    for name in ["example-producer", "example-consumer"] {
        let svc = service(&c, name);
        assert_eq!(depends_condition(svc, "kafka"), "service_healthy", "{name}");
        assert_eq!(
            depends_condition(svc, "kafka-setup"),
            "service_completed_successfully",
            "{name}"
        );
        assert_eq!(
            env_str(svc, "KAFKA_BOOTSTRAP_SERVERS"),
            "kafka:29092",
            "{name}"
        );
        let dockerfile = str_of(&svc["build"]["dockerfile"], "build.dockerfile");
        let context = str_of(&svc["build"]["context"], "build.context");
        let path = repo_root().join(context).join(dockerfile);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let command = words(&svc["command"], "command");
        assert!(
            text.contains(&format!("/usr/local/bin/{}", command[0])),
            "{name}: {} does not install the binary {} that the service runs",
            path.display(),
            command[0]
        );
    }
}

#[test]
fn shell_scripts_parse() {
    for script in [
        "docker/kafka/create-topics.sh",
        "docker/healthcheck/kafka-healthcheck.sh",
        "docker/healthcheck/zookeeper-healthcheck.sh",
        "scripts/kafka-local",
        "scripts/test",
    ] {
        let path = repo_root().join(script);
        assert!(Path::new(&path).exists(), "{script} is missing");
        let out = std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn profiles(svc: &Value) -> Vec<String> {
    svc["profiles"]
        .as_sequence()
        .map(|v| v.iter().map(|i| str_of(i, "profile").to_owned()).collect())
        .unwrap_or_default()
}

fn image_tag(svc: &Value, name: &str) -> (String, String) {
    let image = str_of(&svc["image"], "image");
    let (repo, tag) = image
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{name}: image {image} has no tag"));
    (repo.to_owned(), tag.to_owned())
}

#[test]
fn the_default_setup_has_no_profile_and_the_extra_brokers_have_one() {
    let c = compose();
    for name in [
        "zookeeper",
        "kafka",
        "kafka-setup",
        "example-producer",
        "example-consumer",
    ] {
        assert!(
            profiles(service(&c, name)).is_empty(),
            "{name} must start with a plain `docker compose up`"
        );
    }
    for name in ["kafka-1", "kafka-2", "kafka-3", "kafka-cluster-setup"] {
        assert_eq!(profiles(service(&c, name)), ["cluster"], "{name}");
    }
    for name in ["kafka-kraft", "kafka-kraft-setup"] {
        assert_eq!(profiles(service(&c, name)), ["kraft"], "{name}");
    }
}

#[test]
fn cluster_profile_has_three_distinct_brokers_on_the_pinned_zookeeper_line() {
    let c = compose();
    let (_, default_tag) = image_tag(service(&c, "kafka"), "kafka");
    let mut ids = std::collections::BTreeSet::new();
    let mut host_ports = std::collections::BTreeSet::new();
    let mut vols = std::collections::BTreeSet::new();
    for n in 1..=3 {
        let name = format!("kafka-{n}");
        let svc = service(&c, &name);
        assert_eq!(
            image_tag(svc, &name),
            ("confluentinc/cp-kafka".to_owned(), default_tag.clone()),
            "{name}: the same pinned ZooKeeper-line image as `kafka`"
        );
        assert!(
            ids.insert(env_str(svc, "KAFKA_BROKER_ID")),
            "{name}: broker id reused"
        );
        assert_ne!(
            env_str(svc, "KAFKA_BROKER_ID"),
            env_str(service(&c, "kafka"), "KAFKA_BROKER_ID")
        );
        let zk = env_str(svc, "KAFKA_ZOOKEEPER_CONNECT");
        assert!(
            zk.starts_with("zookeeper:2181/") && zk.len() > "zookeeper:2181/".len(),
            "{name}: its own ZooKeeper chroot, apart from the default broker: {zk}"
        );
        assert_eq!(
            depends_condition(svc, "zookeeper"),
            "service_healthy",
            "{name}"
        );
        let advertised = env_str(svc, "KAFKA_ADVERTISED_LISTENERS");
        assert!(
            advertised.contains(&format!("INTERNAL://{name}:29092")),
            "{name}: {advertised}"
        );
        let ports: Vec<String> = svc["ports"]
            .as_sequence()
            .expect("ports")
            .iter()
            .map(|p| str_of(p, "port").to_owned())
            .collect();
        assert_eq!(ports.len(), 1, "{name}");
        let external = ports[0].split(':').next().unwrap_or_default().to_owned();
        assert!(
            advertised.contains(&format!("EXTERNAL://localhost:{external}")),
            "{name}: the host port is the advertised external listener: {advertised}"
        );
        assert!(
            host_ports.insert(external.clone()),
            "{name}: host port {external} reused"
        );
        assert_ne!(external, "9092", "{name}: clashes with the default broker");
        for key in [
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        ] {
            assert_eq!(env_str(svc, key), "3", "{name}: {key}");
        }
        assert_eq!(
            env_str(svc, "KAFKA_AUTO_CREATE_TOPICS_ENABLE"),
            "false",
            "{name}"
        );
        let data = volumes(svc)
            .into_iter()
            .find(|v| v.ends_with(":/var/lib/kafka/data"))
            .unwrap_or_else(|| panic!("{name}: no data volume"));
        assert!(
            vols.insert(data.clone()),
            "{name}: data volume {data} shared"
        );
        let named = data.split(':').next().unwrap_or_default();
        assert!(
            c["volumes"]
                .as_mapping()
                .expect("volumes")
                .contains_key(named),
            "{name}: volume {named} is not declared"
        );
        let test = words(&svc["healthcheck"]["test"], "healthcheck");
        assert!(
            test.iter()
                .any(|w| w == "/healthcheck/kafka-healthcheck.sh"),
            "{name}: {test:?}"
        );
    }
}

#[test]
fn cluster_setup_creates_topics_with_the_cluster_environment_on_all_three() {
    let c = compose();
    let setup = service(&c, "kafka-cluster-setup");
    for n in 1..=3 {
        assert_eq!(
            depends_condition(setup, &format!("kafka-{n}")),
            "service_healthy"
        );
    }
    let bootstrap = env_str(setup, "KAFKA_BOOTSTRAP_SERVERS");
    for n in 1..=3 {
        assert!(
            bootstrap.contains(&format!("kafka-{n}:29092")),
            "{bootstrap}"
        );
    }
    assert!(
        env(setup, "KAFKA_REPLICATION_FACTOR").is_null(),
        "the replication factor comes from the `cluster` environment of topics.json"
    );
    let entry = words(&setup["entrypoint"], "entrypoint");
    let script_at = entry
        .iter()
        .position(|w| w == "/scripts/create-topics.sh")
        .unwrap_or_else(|| panic!("entrypoint does not run create-topics.sh: {entry:?}"));
    assert_eq!(entry[script_at + 1..], ["--env", "cluster"]);
    let (host, mode) = bind_mount(&volumes(setup), "/scripts/create-topics.sh");
    assert_eq!(host, "./docker/kafka/create-topics.sh");
    assert_eq!(mode.as_deref(), Some("ro"));
    // The environment named here exists in the catalog with RF 3 and min.insync.replicas 2.
    let catalog =
        pmp_event_codegen::topics::TopicCatalog::load(&repo_root().join("schemas/topics.json"))
            .expect("topics.json");
    let env = catalog
        .environment(Some("cluster"))
        .expect("cluster environment");
    assert_eq!((env.replication_factor, env.min_insync_replicas), (3, 2));
}

#[test]
fn kraft_profile_is_a_pinned_combined_controller_and_broker_without_zookeeper() {
    let c = compose();
    let kraft = service(&c, "kafka-kraft");
    let (repo, tag) = image_tag(kraft, "kafka-kraft");
    assert_eq!(repo, "confluentinc/cp-kafka");
    let parts: Vec<&str> = tag.split('.').collect();
    assert!(
        parts.len() == 3
            && parts[0] == "8"
            && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit())),
        "kafka-kraft: tag {tag} must be an exact Confluent 8.x release (KRaft-only line)"
    );
    assert_eq!(
        image_tag(service(&c, "kafka-kraft-setup"), "kafka-kraft-setup"),
        (repo, tag)
    );
    let roles: Vec<String> = env_str(kraft, "KAFKA_PROCESS_ROLES")
        .split(',')
        .map(|r| r.trim().to_owned())
        .collect();
    assert!(roles.contains(&"broker".to_owned()) && roles.contains(&"controller".to_owned()));
    assert!(
        env(kraft, "KAFKA_ZOOKEEPER_CONNECT").is_null(),
        "KRaft has no ZooKeeper"
    );
    assert!(
        kraft["depends_on"]["zookeeper"].is_null(),
        "KRaft does not wait for ZooKeeper"
    );
    let node = env_str(kraft, "KAFKA_NODE_ID");
    let voters = env_str(kraft, "KAFKA_CONTROLLER_QUORUM_VOTERS");
    assert_eq!(voters, format!("{node}@kafka-kraft:29093"));
    assert!(env_str(kraft, "KAFKA_LISTENERS").contains("CONTROLLER://0.0.0.0:29093"));
    assert!(env_str(kraft, "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP").contains("CONTROLLER:"));
    assert_eq!(
        env_str(kraft, "KAFKA_CONTROLLER_LISTENER_NAMES"),
        "CONTROLLER"
    );
    assert_eq!(
        env_str(kraft, "CLUSTER_ID").len(),
        22,
        "a 22-character base64 cluster id"
    );
    let setup = service(&c, "kafka-kraft-setup");
    assert_eq!(depends_condition(setup, "kafka-kraft"), "service_healthy");
    assert_eq!(
        env_str(setup, "KAFKA_BOOTSTRAP_SERVERS"),
        "kafka-kraft:29092"
    );
    let entry = words(&setup["entrypoint"], "entrypoint");
    assert!(
        entry.iter().any(|w| w == "/scripts/create-topics.sh"),
        "{entry:?}"
    );
}

/// The example services serve `/metrics`, `/healthz` and `/readyz` on `PMP_METRICS_ADDR`,
/// their healthchecks ask `/readyz` on that port with a tool their image installs, and the
/// `observability` profile's Prometheus scrapes both on the port they listen on, with its
/// configuration file from `docker/`.
#[test]
fn example_services_are_probed_on_readyz_and_scraped_by_the_observability_profile() {
    let c = compose();
    let mut listening = std::collections::BTreeMap::new();
    for name in ["example-producer", "example-consumer"] {
        let svc = service(&c, name);
        let addr = env_str(svc, "PMP_METRICS_ADDR");
        let (host, port) = addr
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("{name}: PMP_METRICS_ADDR {addr} has no port"));
        assert_eq!(
            host, "0.0.0.0",
            "{name}: must listen beyond loopback to be scraped"
        );
        let test = words(&svc["healthcheck"]["test"], "healthcheck.test");
        assert_eq!(test[0], "CMD", "{name}");
        assert_eq!(test[1], "curl", "{name}");
        assert!(test.contains(&"-f".to_owned()) || test.iter().any(|w| w.starts_with("-f")));
        let url = format!("http://127.0.0.1:{port}/readyz");
        assert_eq!(test.last(), Some(&url), "{name}: healthcheck {test:?}");
        let dockerfile = repo_root()
            .join(str_of(&svc["build"]["context"], "build.context"))
            .join(str_of(&svc["build"]["dockerfile"], "build.dockerfile"));
        let text = std::fs::read_to_string(&dockerfile).unwrap();
        let runtime_stage = text.rsplit("FROM ").next().unwrap();
        assert!(
            runtime_stage.contains(" curl"),
            "{name}: the runtime image of {} lacks curl for its healthcheck",
            dockerfile.display()
        );
        assert!(profiles(svc).is_empty(), "{name}");
        listening.insert(name.to_owned(), port.to_owned());
    }

    let prometheus = service(&c, "prometheus");
    assert_eq!(profiles(prometheus), ["observability"]);
    let (repo, tag) = image_tag(prometheus, "prometheus");
    assert_eq!(repo, "prom/prometheus");
    assert!(tag.starts_with('v') && tag != "latest", "pinned: {tag}");
    let (host, mode) = bind_mount(&volumes(prometheus), "/etc/prometheus/prometheus.yml");
    assert_eq!(host, "./docker/prometheus/prometheus.yml");
    assert_eq!(mode.as_deref(), Some("ro"));
    let config: Value = serde_norway::from_str(
        &std::fs::read_to_string(repo_root().join(&host)).expect("prometheus.yml is readable"),
    )
    .expect("prometheus.yml is valid YAML");
    let jobs = config["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs is a list");
    let mut scraped = std::collections::BTreeMap::new();
    for job in jobs {
        let path = job["metrics_path"].as_str().unwrap_or("/metrics");
        assert_eq!(path, "/metrics");
        for group in job["static_configs"].as_sequence().expect("static_configs") {
            for target in group["targets"].as_sequence().expect("targets") {
                let target = str_of(target, "target");
                let (svc, port) = target.rsplit_once(':').expect("target host:port");
                scraped.insert(svc.to_owned(), port.to_owned());
            }
        }
    }
    assert_eq!(
        scraped, listening,
        "Prometheus scrapes each example service where it listens"
    );
    for name in listening.keys() {
        assert_eq!(
            depends_condition(prometheus, name),
            "service_started",
            "prometheus starts with {name}"
        );
    }
}
