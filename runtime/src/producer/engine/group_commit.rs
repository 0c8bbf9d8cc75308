//! The spool's group commit cycle and the handles it resolves.

use super::*;

impl Engine {
    /// Group commit: every interval, write buffered frames and acks and fsync; then
    /// resolve the handles of the records the commit covered. While the disk fails, retry
    /// with a growing interval (up to 1 s).
    pub(super) fn commit_loop(self: Arc<Self>) {
        let interval = self.shared.durability.fsync_interval();
        let shared = &self.shared;
        let mut wait = interval;
        loop {
            {
                let core = shared.lock();
                let (core, _) = shared
                    .commit_wake
                    .wait_timeout(core, wait)
                    .unwrap_or_else(|p| p.into_inner());
                drop(core);
            }
            if shared.stop.load(SeqCst) {
                return;
            }
            wait = if self.commit_once() {
                interval
            } else {
                (wait * 2).clamp(interval, Duration::from_secs(1))
            };
        }
    }

    /// One group commit (see `spool::commit`): buffers change hands under the lock, the file
    /// system work runs without it. Handles resolve `Spooled` only for records now on
    /// disk; after a failure the rest stay pending (they are delivered from memory, or
    /// written by a later commit). Returns whether the commit succeeded.
    pub(crate) fn commit_once(&self) -> bool {
        let shared = &self.shared;
        let _serial = self.commit_serial.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = {
            let mut core = shared.lock();
            if core.closed {
                return true;
            }
            core.spool.prepare_commit()
        };
        let outcome = (!ticket.is_empty()).then(|| ticket.run());
        let mut core = shared.lock();
        let result = match outcome {
            Some(o) => core.spool.finish_commit(o),
            None => Ok(()),
        };
        while let Some(&seq) = core.awaiting_sync.front() {
            match core.spool.is_durable(seq) {
                Some(false) => break,
                Some(true) => {
                    core.awaiting_sync.pop_front();
                    if let Some(tx) = core.pending.remove(&seq) {
                        let _ = tx.send(Ok(Delivery::Spooled));
                    }
                }
                // Acknowledged by Kafka meanwhile: its delivery report resolved it.
                None => {
                    core.awaiting_sync.pop_front();
                }
            }
        }
        match &result {
            Err(e) => {
                inc_failed(&shared.counters.spool_io, "spool_io");
                if !core.disk_failing {
                    core.disk_failing = true;
                    tracing::error!(error = %e, memory_bytes = core.spool.memory_bytes(),
                        "spool write failed; keeping unwritten events in memory and retrying");
                }
            }
            Ok(()) if core.disk_failing => {
                core.disk_failing = false;
                tracing::info!("spool writes succeed again");
            }
            Ok(()) => {}
        }
        result.is_ok()
    }
}
