//! The one backoff of the server: how long to wait before the next attempt after an error worth retrying, and
//! the loop that retries, cut short by shutdown.
//!
//! The delays are backon's exponential backoff: doubling from `initial` up to `max`, without jitter (one
//! process retries against one database) and without end (a database that is down is waited for however long
//! it takes; shutdown ends the wait). Which errors are worth another attempt is the caller's classification.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use tokio_util::sync::CancellationToken;

/// Backoff between attempts after transient errors: doubling from `initial` up to `max`, without end.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// First delay.
    pub initial: Duration,
    /// Cap of the delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { initial: Duration::from_millis(100), max: Duration::from_secs(30) }
    }
}

/// Why [`RetryPolicy::retry`] stopped without a success.
#[derive(Debug)]
pub enum RetryError<E> {
    /// An attempt failed with an error the caller's classification does not retry.
    Permanent(E),
    /// Shutdown was requested while waiting for the next attempt.
    Shutdown,
}

impl RetryPolicy {
    fn delays(&self) -> ExponentialBuilder {
        ExponentialBuilder::new().with_min_delay(self.initial).with_max_delay(self.max).without_max_times()
    }

    /// A fresh sequence of delays, for a loop that retries within a larger state machine.
    pub fn backoff(&self) -> Backoff {
        let mut delays = self.delays().build();
        let next = delays.next().unwrap_or(self.max);
        Backoff { delays, next }
    }

    /// Runs `attempt` until it succeeds. A failure that `transient` accepts is told to `notify` with the delay,
    /// and the next attempt follows that delay; any other failure is returned. Shutdown ends the wait between
    /// attempts, never an attempt under way.
    pub async fn retry<T, E, F, Fut>(
        &self,
        shutdown: &CancellationToken,
        mut transient: impl FnMut(&E) -> bool,
        mut notify: impl FnMut(&E, Duration),
        mut attempt: F,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut first = true;
        let once = || {
            // The wait was cut short by shutdown: no attempt after it.
            let stopped = !std::mem::take(&mut first) && shutdown.is_cancelled();
            let running = (!stopped).then(&mut attempt);
            async move {
                match running {
                    Some(running) => running.await.map_err(RetryError::Permanent),
                    None => Err(RetryError::Shutdown),
                }
            }
        };
        let token = shutdown.clone();
        once.retry(self.delays())
            .sleep(move |delay| pause(delay, token.clone()))
            .when(|e| matches!(e, RetryError::Permanent(e) if transient(e)))
            .notify(|e, delay| {
                if let RetryError::Permanent(e) = e {
                    notify(e, delay);
                }
            })
            .await
    }
}

/// The delays of one retry sequence of a [`RetryPolicy`].
#[derive(Debug)]
pub struct Backoff {
    delays: <ExponentialBuilder as BackoffBuilder>::Backoff,
    next: Duration,
}

impl Backoff {
    /// How long the next [`Backoff::wait`] waits.
    pub fn delay(&self) -> Duration {
        self.next
    }

    /// Waits out the current delay and moves on to the next; false if shutdown came first.
    pub async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let delay = self.next;
        self.next = self.delays.next().unwrap_or(delay);
        pause(delay, shutdown.clone()).await;
        !shutdown.is_cancelled()
    }
}

/// Sleeps for `delay`, or until shutdown if that comes first.
async fn pause(delay: Duration, shutdown: CancellationToken) {
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = shutdown.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    const FAST: RetryPolicy = RetryPolicy { initial: Duration::from_millis(1), max: Duration::from_millis(4) };

    #[test]
    fn delays_double_up_to_the_cap_and_never_end() {
        let policy = RetryPolicy { initial: Duration::from_millis(100), max: Duration::from_secs(1) };
        let mut backoff = policy.backoff();
        let mut seen = Vec::new();
        for _ in 0..8 {
            seen.push(backoff.delay().as_millis());
            backoff.next = backoff.delays.next().unwrap();
        }
        assert_eq!(seen, [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    }

    #[tokio::test]
    async fn transient_errors_are_retried_and_others_returned() {
        let calls = AtomicU32::new(0);
        let mut notified = Vec::new();
        let token = CancellationToken::new();
        let attempt = || async {
            match calls.fetch_add(1, Ordering::Relaxed) {
                0 | 1 => Err("transient"),
                _ => Ok(7),
            }
        };
        let got = FAST.retry(&token, |e| *e == "transient", |e, d| notified.push((*e, d)), attempt).await;
        assert!(matches!(got, Ok(7)));
        assert_eq!(notified, [("transient", Duration::from_millis(1)), ("transient", Duration::from_millis(2))]);

        calls.store(0, Ordering::Relaxed);
        let attempt = || async {
            calls.fetch_add(1, Ordering::Relaxed);
            Err::<(), _>("permanent")
        };
        let got = FAST.retry(&token, |e| *e == "transient", |_, _| {}, attempt).await;
        assert!(matches!(got, Err(RetryError::Permanent("permanent"))));
        assert_eq!(calls.load(Ordering::Relaxed), 1, "a permanent error is not retried");
    }

    #[tokio::test]
    async fn shutdown_ends_the_wait_and_no_attempt_follows() {
        let token = CancellationToken::new();
        let calls = AtomicU32::new(0);
        let slow = RetryPolicy { initial: Duration::from_secs(3600), max: Duration::from_secs(3600) };
        let attempt = || async {
            calls.fetch_add(1, Ordering::Relaxed);
            Err::<(), _>(())
        };
        let stopper = token.clone();
        let cancel = async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            stopper.cancel();
        };
        let (got, ()) = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::join!(slow.retry(&token, |_| true, |_, _| {}, attempt), cancel)
        })
        .await
        .expect("shutdown cuts the hour-long wait short");
        assert!(matches!(got, Err(RetryError::Shutdown)));
        assert_eq!(calls.load(Ordering::Relaxed), 1);

        let mut backoff = slow.backoff();
        assert!(!backoff.wait(&token).await, "a wait after shutdown returns at once");
    }

    #[tokio::test]
    async fn the_first_attempt_runs_even_after_shutdown() {
        let token = CancellationToken::new();
        token.cancel();
        let got = FAST.retry(&token, |_: &()| true, |_, _| {}, || async { Ok(1) }).await;
        assert!(matches!(got, Ok(1)));
    }
}
