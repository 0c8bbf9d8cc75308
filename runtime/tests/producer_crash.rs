//! Crash test: a child process publishing in `write-ahead` mode during an outage is killed
//! with SIGKILL; a new producer on the same spool directory delivers every event the child
//! saw accepted.

mod producer_support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pmp_event_runtime::producer::RobustProducer;
use producer_support::*;
use uuid::Uuid;

const DIR_VAR: &str = "PMP_CRASH_CHILD_SPOOL_DIR";
const BOOTSTRAP_VAR: &str = "PMP_CRASH_CHILD_BOOTSTRAP";
const ACCEPTED: &str = "ACCEPTED ";

/// Entry point of the child process (run by `write_ahead_survives_sigkill`); does nothing
/// unless started by it.
#[test]
#[ignore = "child process of write_ahead_survives_sigkill"]
fn crash_child() {
    let (Ok(dir), Ok(bootstrap)) = (std::env::var(DIR_VAR), std::env::var(BOOTSTRAP_VAR)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let producer = RobustProducer::new(write_ahead(config(&bootstrap, dir.as_ref()))).unwrap();
        let mut stdout = std::io::stdout().lock();
        let started = Instant::now();
        let mut i = 0u64;
        // Until killed (bounded, in case the parent died).
        while started.elapsed() < Duration::from_secs(300) {
            let handles = publish_range(&producer, i..i + 200, 23);
            i += 200;
            for h in handles {
                let id = h.event_id();
                h.await.expect("accepted");
                writeln!(stdout, "{ACCEPTED}{id}").unwrap();
            }
            stdout.flush().unwrap();
        }
    });
}

#[test]
fn write_ahead_survives_sigkill() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    cluster.broker_down(-1).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, dir.path())
        .env(BOOTSTRAP_VAR, &bootstrap)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let accepted = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let reader = {
        let accepted = accepted.clone();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(id) = line.strip_prefix(ACCEPTED) {
                    accepted
                        .lock()
                        .unwrap()
                        .push(Uuid::parse_str(id.trim()).unwrap());
                }
            }
        })
    };
    wait_until("child accepted 5,000 events", || {
        accepted.lock().unwrap().len() >= 5_000
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    let accepted: HashSet<Uuid> = accepted.lock().unwrap().iter().copied().collect();
    assert!(accepted.len() >= 5_000);

    cluster.broker_up(-1).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let producer = RobustProducer::new(write_ahead(config(&bootstrap, dir.path()))).unwrap();
        let recovered = producer.recovery_report().records_recovered;
        assert!(
            recovered >= accepted.len() as u64,
            "recovered {recovered} < accepted {}",
            accepted.len()
        );
        wait_drained(&producer).await;
        let consumed = consume_until(&bootstrap, &accepted);
        check_key_order(&consumed);
        producer.shutdown(Duration::from_secs(10)).await;
    });
}
