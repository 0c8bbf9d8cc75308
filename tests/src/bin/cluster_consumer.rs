//! One instance of a validating consumer group, as its own process, for the failover test
//! that SIGKILLs a consumer instance (`tests/tests/cluster_failover.rs`).
//!
//! ```text
//! cluster_consumer BOOTSTRAP GROUP PRODUCER HANDLER_DELAY_MS
//! ```
//!
//! Consumes `patient.deleted` events in group `GROUP` and prints `handled <event_id>` on
//! stdout (flushed) for every event whose envelope `producer` is `PRODUCER`, from inside the
//! handler, before the handler returns and so before its offset can be committed: every
//! event whose offset this instance committed was printed. Handling one of those events takes
//! `HANDLER_DELAY_MS`, so the test can kill the instance mid-stream. Closing stdin shuts the
//! consumer down cleanly (commits) and exits 0. The group's session timeout is 6 s, so a
//! killed instance's partitions move soon.

use std::io::{BufRead, Write};
use std::time::Duration;

use pmp_event_runtime::consumer::{ConsumerBuilder, ConsumerConfig};
use pmp_event_runtime::KafkaConfig;
use pmp_events::{AnyEvent, PatientDeletedV1};

fn usage() -> ! {
    eprintln!("usage: cluster_consumer BOOTSTRAP GROUP PRODUCER HANDLER_DELAY_MS");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bootstrap, group, producer, delay] = args.as_slice() else {
        usage()
    };
    let Ok(delay_ms) = delay.parse::<u64>() else {
        usage()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cluster_consumer: cannot start the async runtime: {e}");
            std::process::exit(1)
        }
    };
    let kafka = KafkaConfig::new(bootstrap.as_str())
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "1000");
    let producer = producer.clone();
    let code = runtime.block_on(async move {
        let delay = Duration::from_millis(delay_ms);
        let consumer = ConsumerBuilder::<AnyEvent>::new(ConsumerConfig::new(kafka, group.clone()))
            .on::<PatientDeletedV1, _, _>(move |e| {
                let producer = producer.clone();
                async move {
                    // Other runs' events on the shared topic pass at full speed.
                    if e.producer == producer {
                        tokio::time::sleep(delay).await;
                        let mut out = std::io::stdout().lock();
                        // A closed stdout means the test is gone: nothing left to report to.
                        let _ = writeln!(out, "handled {}", e.event_id);
                        let _ = out.flush();
                    }
                    Ok(())
                }
            })
            .start();
        let consumer = match consumer {
            Ok(c) => c,
            Err(e) => {
                eprintln!("cluster_consumer: cannot start: {e}");
                return 1;
            }
        };
        // Wait for stdin to close (the test's signal to stop).
        let _ = tokio::task::spawn_blocking(|| {
            for line in std::io::stdin().lock().lines() {
                if line.is_err() {
                    break;
                }
            }
        })
        .await;
        let report = consumer.shutdown(Duration::from_secs(20)).await;
        eprintln!("cluster_consumer: shut down: {report:?}");
        0
    });
    std::process::exit(code)
}
