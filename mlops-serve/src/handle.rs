//! [`ModelHandle`]: follows a registry alias and swaps the model atomically
//! when the alias moves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use mlops_core::data::Value;
use mlops_core::registry::{ModelRef, Registry};
use mlops_core::tracking::Tracker;

use crate::error::{Error, Result};
use crate::monitor::{MonitorOptions, PredictionLog, PrometheusText};
use crate::predictor::{CorrelationId, Predictor, Record, Score};

/// Loads version `version` of model `name` into a predictor.
pub type Loader = dyn Fn(&str, u32) -> Result<Predictor> + Send + Sync;

struct Shared {
    reference: ModelRef,
    registry: Registry,
    loader: Box<Loader>,
    current: ArcSwap<Predictor>,
    /// One reload at a time; requests never take it.
    reload: Mutex<()>,
    log: Mutex<Option<Arc<PredictionLog>>>,
    swaps: AtomicU64,
    /// The outcome of the latest refreshes.
    refresh: Mutex<RefreshStatus>,
}

/// How the latest [`ModelHandle::refresh`] calls went: a store that cannot
/// be read (or a version that cannot be loaded) shows here while the handle
/// keeps serving the model it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshStatus {
    /// Refreshes that failed in a row (0: the last one succeeded, or none
    /// ran yet).
    pub consecutive_failures: u64,
    /// The error of the latest failed refresh while failing, else `None`.
    pub last_error: Option<String>,
}

impl RefreshStatus {
    /// True when the latest refresh succeeded (or none ran yet).
    pub fn is_ok(&self) -> bool {
        self.consecutive_failures == 0
    }
}

/// A model that follows a registry reference (usually `NAME@ALIAS`).
///
/// Requests read the current [`Predictor`] through an [`ArcSwap`]: no lock,
/// and a request that started on a version finishes on it. When the alias
/// moves, [`refresh`](Self::refresh) (call it when notified, e.g. right
/// after your own `set_alias`) or a [`poll_every`](Self::poll_every) thread
/// loads the new version *first*, then swaps it in: no request ever fails
/// or waits because of a swap. Cloning shares the handle.
#[derive(Clone)]
pub struct ModelHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ModelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelHandle")
            .field("reference", &self.shared.reference.to_string())
            .field("current", &self.current().id().to_string())
            .field("swaps", &self.swaps())
            .finish_non_exhaustive()
    }
}

impl ModelHandle {
    /// Follows `reference` (`NAME@ALIAS`, or `NAME/VERSION` to pin one
    /// version), loading packages from the tracker's run artifacts with
    /// default monitoring.
    pub fn follow(registry: Registry, tracker: Tracker, reference: &str) -> Result<Self> {
        Self::follow_with(registry, tracker, reference, MonitorOptions::default())
    }

    /// [`follow`](Self::follow) with monitoring options for every version
    /// loaded.
    pub fn follow_with(
        registry: Registry,
        tracker: Tracker,
        reference: &str,
        options: MonitorOptions,
    ) -> Result<Self> {
        let reg = registry.clone();
        Self::with_loader(registry, reference, move |name, version| {
            Predictor::from_registry_version(&reg, &tracker, name, version, &options)
        })
    }

    /// Follows `reference` with a custom loader (a cache, another store).
    /// Loads the version the reference points at now.
    pub fn with_loader(
        registry: Registry,
        reference: &str,
        loader: impl Fn(&str, u32) -> Result<Predictor> + Send + Sync + 'static,
    ) -> Result<Self> {
        let reference: ModelRef = reference.parse()?;
        let version = registry.resolve_ref(&reference)?;
        let first = loader(&version.model, version.version)?;
        check_loaded(&first, &version.model, version.version)?;
        tracing::info!(reference = %reference, model = %first.id(), "model handle loaded");
        Ok(Self {
            shared: Arc::new(Shared {
                reference,
                registry,
                loader: Box::new(loader),
                current: ArcSwap::from_pointee(first),
                reload: Mutex::new(()),
                log: Mutex::new(None),
                swaps: AtomicU64::new(0),
                refresh: Mutex::new(RefreshStatus::default()),
            }),
        })
    }

    /// The reference followed.
    pub fn reference(&self) -> &ModelRef {
        &self.shared.reference
    }

    /// The predictor serving now. Holding it keeps that version alive (the
    /// handle may have moved on meanwhile).
    pub fn current(&self) -> Arc<Predictor> {
        self.shared.current.load_full()
    }

    /// How many times the model was swapped.
    pub fn swaps(&self) -> u64 {
        self.shared.swaps.load(Ordering::Relaxed)
    }

    /// Attaches a prediction log to the current and every later version.
    pub fn set_prediction_log(&self, log: Arc<PredictionLog>) {
        let _reload = self.shared.reload.lock().unwrap_or_else(|p| p.into_inner());
        *self.shared.log.lock().unwrap_or_else(|p| p.into_inner()) = Some(log.clone());
        let cur = self.shared.current.load_full();
        self.shared
            .current
            .store(Arc::new((*cur).clone().with_prediction_log(log)));
    }

    /// Scores a named record on the current version.
    pub fn predict(&self, record: &Record<'_>) -> Result<Score> {
        self.shared.current.load().predict(record)
    }

    /// [`predict`](Self::predict) under the caller's correlation id.
    pub fn predict_with(&self, record: &Record<'_>, id: CorrelationId) -> Result<Score> {
        self.shared.current.load().predict_with(record, id)
    }

    /// Scores a positional record on the current version.
    pub fn predict_row(&self, row: &[Value<'_>]) -> Result<Score> {
        self.shared.current.load().predict_row(row)
    }

    /// How the latest refreshes went (see [`RefreshStatus`]).
    pub fn refresh_status(&self) -> RefreshStatus {
        self.shared
            .refresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Re-resolves the reference; when it names another version, loads it
    /// and swaps it in. Returns whether the model changed. A failed load
    /// (or an unreadable store) leaves the serving model in place, is
    /// returned and shows in [`refresh_status`](Self::refresh_status).
    pub fn refresh(&self) -> Result<bool> {
        let result = self.try_refresh();
        let mut status = self
            .shared
            .refresh
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match &result {
            Ok(_) => *status = RefreshStatus::default(),
            Err(e) => {
                status.consecutive_failures += 1;
                status.last_error = Some(e.to_string());
            }
        }
        result
    }

    fn try_refresh(&self) -> Result<bool> {
        let s = &*self.shared;
        let _reload = s.reload.lock().unwrap_or_else(|p| p.into_inner());
        let target = s.registry.resolve_ref(&s.reference)?;
        let cur = s.current.load();
        if cur.id().name.as_ref() == target.model && cur.id().version == Some(target.version) {
            return Ok(false);
        }
        let mut next = (s.loader)(&target.model, target.version)?;
        check_loaded(&next, &target.model, target.version)?;
        if let Some(log) = s.log.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            next = next.with_prediction_log(log);
        }
        let from = cur.id().to_string();
        drop(cur);
        s.current.store(Arc::new(next));
        s.swaps.fetch_add(1, Ordering::Relaxed);
        tracing::info!(reference = %s.reference, from, to = %format!("{}/{}", target.model, target.version), "model swapped");
        Ok(true)
    }

    /// Starts a thread that calls [`refresh`](Self::refresh) every
    /// `interval` (errors are traced and retried next time). The thread
    /// stops when the returned [`Poller`] is dropped.
    pub fn poll_every(&self, interval: Duration) -> Result<Poller> {
        if interval.is_zero() {
            return Err(Error::InvalidConfig {
                name: "poll interval",
                reason: "must be positive".into(),
            });
        }
        let (stop, rx) = channel::<()>();
        let handle = self.clone();
        let thread = std::thread::Builder::new()
            .name("mlops-model-poll".into())
            .spawn(move || {
                loop {
                    match rx.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        // Stop asked, or the Poller is gone.
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    if let Err(e) = handle.refresh() {
                        tracing::warn!(reference = %handle.shared.reference, error = %e, "model refresh failed");
                    }
                }
            })
            .map_err(|e| Error::InvalidConfig {
                name: "poll thread",
                reason: e.to_string(),
            })?;
        Ok(Poller {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Prometheus text of the serving version's monitor and, when a
    /// prediction log is attached, the live quality of every version with
    /// outcomes.
    pub fn prometheus_text(&self) -> String {
        let mut page = PrometheusText::new();
        let cur = self.current();
        page.monitor(&cur.monitor().snapshot());
        if let Some(log) = cur.prediction_log() {
            for q in log.qualities() {
                page.quality(&q);
            }
        }
        page.render()
    }
}

fn check_loaded(p: &Predictor, model: &str, version: u32) -> Result<()> {
    if p.id().name.as_ref() != model || p.id().version != Some(version) {
        return Err(Error::InvalidConfig {
            name: "loader",
            reason: format!(
                "asked for {model}/{version}, the loader returned {}",
                p.id()
            ),
        });
    }
    Ok(())
}

/// The polling thread of a [`ModelHandle`]; dropping it stops the thread.
#[derive(Debug)]
pub struct Poller {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Poller {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
