//! Retrying transient handler errors.
//!
//! A partition's messages are handled one at a time by its lane, so retrying in place keeps
//! per-partition order: the next record of the partition is not looked at until this one is
//! handled or dead-lettered. Other partitions' lanes keep going. Waits are `initial * 2^n`,
//! capped, and end early on shutdown, leaving the offset uncommitted so the message is seen
//! again.

use tokio::sync::watch;

use super::config::RetryPolicy;
use super::dispatch::{attempt, Attempt, HandlerError, Invocation};
use super::failure::{Failure, FailureClass};
use super::metrics::Metrics;

/// How handling a message ended.
pub(crate) enum Handled {
    Ok,
    Failed(Failure),
    /// Shutdown was requested while waiting to retry.
    Stopped,
}

pub(crate) async fn handle_with_retries(
    call: &Invocation,
    policy: &RetryPolicy,
    stop: &mut watch::Receiver<bool>,
    metrics: &Metrics,
) -> Handled {
    let mut retry = 0u32;
    loop {
        let outcome = if retry == 0 {
            attempt(call).await
        } else {
            tracing::Instrument::instrument(attempt(call), crate::observe::trace::retry_span(retry))
                .await
        };
        match outcome {
            Attempt::Ok => return Handled::Ok,
            Attempt::Panicked => {
                return Handled::Failed(Failure::new(
                    FailureClass::HandlerPanic,
                    "",
                    "handler panicked (message not kept: it may quote payload values)",
                ))
            }
            Attempt::Failed(HandlerError::Permanent(m)) => {
                return Handled::Failed(Failure::new(FailureClass::HandlerPermanent, "", m))
            }
            Attempt::Failed(HandlerError::Transient(m)) => {
                if retry >= policy.max_retries {
                    return Handled::Failed(Failure::new(
                        FailureClass::RetriesExhausted,
                        "",
                        format!("still failing after {} retries: {m}", policy.max_retries),
                    ));
                }
                metrics.retry();
                if sleep_or_stop(policy.backoff(retry), stop).await {
                    return Handled::Stopped;
                }
                retry += 1;
            }
        }
    }
}

/// Sleep for `d`; `true` when shutdown was requested first.
pub(crate) async fn sleep_or_stop(
    d: std::time::Duration,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    if *stop.borrow() {
        return true;
    }
    let stopped = tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = stop.wait_for(|s| *s) => true,
    };
    stopped || *stop.borrow()
}
