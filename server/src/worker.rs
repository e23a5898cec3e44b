//! The projection worker: a background thread that brings the relational
//! projection up to date after changes arrive, and, when it is idle, runs
//! the dedup ([`crate::dedup`]) every so often if registrations arrived or
//! changed since its last run.
//!
//! Accepting changes only appends them (fast, and the device gets its
//! acknowledgement at once); the worker then loads each touched child's
//! document — one at a time, never all of them — and rewrites its rows. It
//! is woken by every upload and also polls, so nothing stays behind if a
//! wake-up is missed or the server restarted with work pending.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::storage::Storage;

/// How many children one projection round takes.
const BATCH: usize = 256;

#[derive(Default)]
struct Signal {
    state: Mutex<(bool, bool)>, // (kicked, stopping)
    cond: Condvar,
}

/// A handle to wake the worker.
#[derive(Clone, Default)]
pub struct Kick(Arc<Signal>);

impl Kick {
    /// Tells the worker there is new work.
    pub fn kick(&self) {
        if let Ok(mut s) = self.0.state.lock() {
            s.0 = true;
            self.0.cond.notify_one();
        }
    }

    fn stop(&self) {
        if let Ok(mut s) = self.0.state.lock() {
            s.1 = true;
            self.0.cond.notify_one();
        }
    }

    /// Waits for a kick, a stop or the timeout; true when stopping.
    fn wait(&self, timeout: Duration) -> bool {
        let Ok(mut s) = self.0.state.lock() else {
            return true;
        };
        if !s.0 && !s.1 {
            s = match self.0.cond.wait_timeout(s, timeout) {
                Ok((s, _)) => s,
                Err(_) => return true,
            };
        }
        s.0 = false;
        s.1
    }
}

/// The running worker.
pub struct ProjectionWorker {
    kick: Kick,
    handle: Option<JoinHandle<()>>,
}

impl ProjectionWorker {
    /// Starts the worker thread; `dedup_every`: how often the dedup may run
    /// (`None`: never in the background).
    pub fn start(storage: Arc<dyn Storage>, dedup_every: Option<Duration>) -> ProjectionWorker {
        let kick = Kick::default();
        let k = kick.clone();
        let handle = std::thread::Builder::new()
            .name("projection".into())
            .spawn(move || run(storage, k, dedup_every))
            .ok();
        ProjectionWorker { kick, handle }
    }

    /// A handle that wakes the worker.
    pub fn kick_handle(&self) -> Kick {
        self.kick.clone()
    }

    /// Stops the worker after its current round.
    pub fn stop(mut self) {
        self.kick.stop();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Who the audit log names for the background dedup's merges.
pub const DEDUP_ACTOR: &str = "server-dedup";

fn run(storage: Arc<dyn Storage>, kick: Kick, dedup_every: Option<Duration>) {
    let mut last_dedup = Instant::now();
    loop {
        match storage.project_pending(BATCH) {
            Ok(n) if n > 0 => {
                tracing::debug!(children = n, "projected");
                if kick.wait(Duration::ZERO) {
                    return;
                }
                continue;
            }
            Ok(_) => {
                if let Some(every) = dedup_every
                    && last_dedup.elapsed() >= every
                {
                    last_dedup = Instant::now();
                    match storage.unlinked() {
                        Ok(0) => {}
                        Ok(_) => {
                            let now = chrono::Utc::now().timestamp_millis();
                            let config = linkage::LinkConfig::default();
                            if let Err(e) =
                                crate::dedup::run(storage.as_ref(), DEDUP_ACTOR, &config, now)
                            {
                                tracing::error!(error = %e, "dedup run failed; will retry");
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "cannot count unlinked children"),
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "projection round failed; will retry"),
        }
        if kick.wait(Duration::from_secs(1)) {
            return;
        }
    }
}
