//! A failing spool disk, with the broker down and then up: a really full file system (a
//! small tmpfs, mounted by the test: CI runs as root) and injected faults under the spool
//! (`ENOSPC`, `EIO` on write, a failing `fsync`, a read-only directory).
//!
//! Every scenario checks the two promises of the spool's module docs, counting events
//! exactly: a handle's outcome is final and true (an `Err` from `publish` means the event is
//! never sent; an accepted event's handle does not resolve while its fate is unknown, and
//! never says `Spooled` for an event that is not on disk), and a full or failing disk does
//! not stop a producer whose broker is up (what was accepted is delivered in per-key order,
//! new events go straight to Kafka).

mod producer_support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pmp_event_runtime::producer::{
    ConnectionState, Delivery, DeliveryHandle, Durability, ProducerConfig, PublishError,
    RobustProducer,
};
use pmp_event_runtime::spool::{SpoolFaults, SpoolLimits, WriteFault};
use producer_support::*;

const KEYS: u64 = 13;

/// Spool bound for the scenarios: small, so a failing disk fills the memory it may hold
/// (the smaller of this and 64 MiB) within a few thousand events.
fn limits() -> SpoolLimits {
    SpoolLimits {
        max_bytes: 256 * 1024,
        max_records: 1_000_000,
    }
}

fn producer_config(bootstrap: &str, dir: &Path, durability: Durability) -> ProducerConfig {
    let mut cfg = config(bootstrap, dir)
        .with_spool_limits(limits())
        .with_durability(durability);
    cfg.segment_bytes = 64 * 1024;
    cfg
}

/// Whether the handle has resolved (polls it once).
async fn resolved(h: &mut DeliveryHandle) -> Option<Result<Delivery, PublishError>> {
    tokio::time::timeout(Duration::ZERO, h).await.ok()
}

/// The scenario shared by every fault: `fail` breaks the disk after the producer opened
/// its spool, `repair` fixes it at the end.
async fn disk_failure_scenario(
    dir: &Path,
    durability: Durability,
    fail: impl FnOnce(),
    repair: impl FnOnce(),
) {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    cluster.broker_down(-1).unwrap();
    let producer = RobustProducer::new(producer_config(&bootstrap, dir, durability)).unwrap();
    fail();

    // Broker down, disk failing: events are accepted into memory until the memory the
    // spool may hold is used up; after that `publish` fails, and such an event must never
    // reach Kafka.
    let mut accepted = Vec::new();
    let mut rejected = HashSet::new();
    for i in 0..4_000 {
        let ev = event(i, KEYS);
        match producer.publish(ev.clone()) {
            Ok(h) => accepted.push(h),
            Err(PublishError::Spool(_) | PublishError::SpoolFull { .. }) => {
                rejected.insert((ev.entity_id, ev.n));
            }
            Err(e) => panic!("unexpected publish error: {e}"),
        }
    }
    assert!(!accepted.is_empty(), "nothing was accepted into memory");
    assert!(
        !rejected.is_empty(),
        "the failing disk never made publish refuse an event"
    );
    // Give the group commit many attempts (it runs every 5 ms, backing off to 1 s).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        producer.metrics().failures.spool_io > 0,
        "the fault never hit"
    );
    for h in &mut accepted {
        if let Some(outcome) = resolved(h).await {
            panic!("resolved while the disk fails and the broker is down: {outcome:?}");
        }
    }

    // Broker up, disk still failing: the backlog is sent from memory, then new events go
    // straight to Kafka.
    cluster.broker_up(-1).unwrap();
    wait_until_async("backlog drained from memory", || {
        let m = producer.metrics();
        m.spool_depth == 0 && m.state == ConnectionState::Up
    })
    .await;
    for i in 4_000..5_000 {
        let h = producer
            .publish(event(i, KEYS))
            .expect("a full disk must not stop a producer whose broker is up");
        accepted.push(h);
    }
    let published = ids(&accepted);
    for h in accepted {
        let outcome = tokio::time::timeout(Duration::from_secs(120), h)
            .await
            .expect("handle resolved");
        assert!(
            matches!(outcome, Ok(Delivery::Delivered { .. })),
            "accepted event not delivered: {outcome:?}"
        );
    }
    let consumed = consume_until(&bootstrap, &published);
    verify(&published, &consumed);
    for c in &consumed {
        assert!(
            !rejected.contains(&(c.entity_id.clone(), c.n)),
            "event {} of {} was refused by publish but delivered",
            c.n,
            c.entity_id
        );
    }
    repair();
    let report = producer.shutdown(Duration::from_secs(10)).await;
    assert_eq!(report.spooled, 0, "{report:?}");
}

fn with_fault(dir: &Path, set: impl Fn(&SpoolFaults) + 'static) -> (impl FnOnce(), impl FnOnce()) {
    let faults = SpoolFaults::install(dir);
    let f2 = faults.clone();
    (
        move || set(&faults),
        move || {
            f2.set_write(WriteFault::None);
            f2.set_fsync_fails(false);
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_enospc_keeps_outcomes_true_and_delivers_when_the_broker_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let (fail, repair) = with_fault(dir.path(), |f| f.set_write(WriteFault::NoSpace));
    disk_failure_scenario(dir.path(), Durability::Outage, fail, repair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_on_write_keeps_outcomes_true_and_delivers_when_the_broker_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let (fail, repair) = with_fault(dir.path(), |f| f.set_write(WriteFault::Io));
    disk_failure_scenario(dir.path(), Durability::Outage, fail, repair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_fsync_never_reports_spooled_and_delivers_when_the_broker_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let (fail, repair) = with_fault(dir.path(), |f| f.set_fsync_fails(true));
    disk_failure_scenario(dir.path(), Durability::Outage, fail, repair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_directory_keeps_outcomes_true_and_delivers_when_the_broker_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let (fail, repair) = with_fault(dir.path(), |f| f.set_write(WriteFault::ReadOnly));
    disk_failure_scenario(dir.path(), Durability::Outage, fail, repair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_ahead_with_a_full_disk_keeps_outcomes_true_and_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let (fail, repair) = with_fault(dir.path(), |f| f.set_write(WriteFault::NoSpace));
    disk_failure_scenario(dir.path(), Durability::write_ahead(), fail, repair).await;
}

/// A small tmpfs, unmounted (and its mount point removed) on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount (the test needs root, as CI has)");
        assert!(status.success(), "mounting a tmpfs failed (needs root)");
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Fill the file system holding `dir` with one file; return its path.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 4096];
    loop {
        match f.write_all(&block).and_then(|()| f.flush()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the tmpfs: {e}"),
        }
    }
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_really_full_disk_keeps_outcomes_true_and_delivers_when_the_broker_is_up() {
    let fs = Tmpfs::mount("2m");
    let spool = fs.path().join("spool");
    let filler = fs.path().to_owned();
    disk_failure_scenario(
        &spool,
        Durability::Outage,
        move || {
            fill(&filler);
        },
        || {},
    )
    .await;
}

/// Structural check for `publish` latency: a commit hung inside the disk (write or
/// `fsync` never returns) does not hold up `publish`, in either mode, with the broker down
/// (every event goes to the spool). On a design that writes or fsyncs under the producer's
/// lock, the publishing thread would hang with the disk and the guard below would fire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_never_waits_for_a_hung_spool_disk() {
    for durability in [Durability::Outage, Durability::write_ahead()] {
        let cluster = mock_cluster();
        let bootstrap = cluster.bootstrap_servers();
        cluster.broker_down(-1).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let faults = SpoolFaults::install(dir.path());
        let producer =
            RobustProducer::new(config(&bootstrap, dir.path()).with_durability(durability))
                .unwrap();
        faults.set_stall(true);
        let mut handles = publish_range(&producer, 0..10, KEYS);
        wait_until("a commit hangs in the disk", || faults.stalled_calls() > 0);
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let more = std::thread::scope(|s| {
            let publisher = s.spawn(|| {
                let hs = publish_range(&producer, 10..5_010, KEYS);
                let _ = done_tx.send(());
                hs
            });
            let finished = done_rx.recv_timeout(Duration::from_secs(120));
            faults.set_stall(false);
            assert!(
                finished.is_ok(),
                "publish waited for the hung disk ({durability:?})"
            );
            publisher.join().unwrap()
        });
        handles.extend(more);
        for h in handles {
            assert_eq!(h.await.unwrap(), Delivery::Spooled, "{durability:?}");
        }
        cluster.broker_up(-1).unwrap();
        wait_drained(&producer).await;
        producer.shutdown(Duration::from_secs(10)).await;
    }
}
