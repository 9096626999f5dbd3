//! A scoring server following `churn@champion` whose store becomes
//! unreachable keeps serving the model it holds and says so on /health.
#![cfg(feature = "http")]

mod common;
#[path = "common/http_server.rs"]
mod http_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http_server::Server;
use mlops_core::registry::Registry;
use mlops_core::store::{Entry, MemoryStore, SharedStore, Store, WriteBatch};
use mlops_core::tracking::Tracker;
use mlops_serve::ModelHandle;
use mlops_serve::http::ModelSlot;
use serde_json::Value as Json;

/// A store that fails every call while `down` (a lost disk or network
/// mount), else passes through.
#[derive(Debug, Default)]
struct Unreachable {
    inner: MemoryStore,
    down: AtomicBool,
}

type Scan<'a> = Box<dyn Iterator<Item = mlops_core::Result<Entry>> + 'a>;

impl Unreachable {
    fn up(&self) -> mlops_core::Result<&MemoryStore> {
        if self.down.load(Ordering::SeqCst) {
            return Err(mlops_core::Error::Backend(
                "store unreachable (injected)".into(),
            ));
        }
        Ok(&self.inner)
    }
}

impl Store for Unreachable {
    fn get(&self, tree: &str, key: &[u8]) -> mlops_core::Result<Option<Vec<u8>>> {
        self.up()?.get(tree, key)
    }
    fn scan_prefix<'a>(&'a self, tree: &str, prefix: &[u8]) -> mlops_core::Result<Scan<'a>> {
        self.up()?.scan_prefix(tree, prefix)
    }
    fn scan_range<'a>(&'a self, tree: &str, s: &[u8], e: &[u8]) -> mlops_core::Result<Scan<'a>> {
        self.up()?.scan_range(tree, s, e)
    }
    fn apply(&self, batch: WriteBatch) -> mlops_core::Result<()> {
        self.up()?.apply(batch)
    }
    fn compare_and_swap(
        &self,
        tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> mlops_core::Result<bool> {
        self.up()?.compare_and_swap(tree, key, expected, new)
    }
    fn apply_if(
        &self,
        tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        batch: WriteBatch,
    ) -> mlops_core::Result<bool> {
        self.up()?.apply_if(tree, key, expected, batch)
    }
    fn flush(&self) -> mlops_core::Result<()> {
        self.up()?.flush()
    }
}

fn get(url: &str) -> Json {
    serde_json::from_str(
        &ureq::get(url)
            .call()
            .expect("200")
            .into_string()
            .expect("body"),
    )
    .expect("json")
}

#[test]
fn an_unreachable_store_degrades_health_but_not_scoring() {
    let t = common::telco();
    let faulty = Arc::new(Unreachable::default());
    let store: SharedStore = faulty.clone();
    let (tracker, registry) = (Tracker::new(store.clone()), Registry::new(store));
    let v1 = common::register(
        &tracker,
        &registry,
        &common::package(&t, common::logistic(&t), "logreg"),
    );
    registry
        .set_alias("churn", "champion", v1, "test", "first")
        .expect("alias");
    let handle = ModelHandle::follow(registry, tracker, "churn@champion").expect("follow");
    let slot = ModelSlot::new();
    slot.follow(handle.clone());
    let server = Server::start(slot);
    let health = format!("{}/health", server.base);
    assert_eq!(get(&health)["status"], "ok");

    faulty.down.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        assert!(handle.refresh().is_err(), "refresh reads the store");
    }
    let h = get(&health);
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["model"], "churn/1");
    assert_eq!(h["refresh"]["consecutive_failures"], 2, "{h}");
    assert!(
        h["refresh"]["error"]
            .as_str()
            .expect("error")
            .contains("unreachable"),
        "{h}"
    );
    // Scoring goes on with the held model.
    let body = http_server::json_records(&t.test, 0..3).to_string();
    let resp = ureq::post(&format!("{}/invocations", server.base))
        .set("Content-Type", "application/json")
        .send_string(&body)
        .expect("scored while the store is down");
    let answer: Json = serde_json::from_str(&resp.into_string().expect("body")).expect("json");
    assert_eq!(answer["model"], "churn/1");
    assert_eq!(answer["predictions"].as_array().expect("preds").len(), 3);

    // The store is back: the next refresh clears the report.
    faulty.down.store(false, Ordering::SeqCst);
    assert!(!handle.refresh().expect("refresh"), "alias unchanged");
    let h = get(&health);
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["refresh"]["ok"], true);
    server.shutdown();
}
