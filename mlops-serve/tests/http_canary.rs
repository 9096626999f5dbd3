//! The HTTP server's canary slot, through a real HTTP client (ureq) against
//! a server on a free local port.
#![cfg(feature = "http")]

mod common;
#[path = "common/http_server.rs"]
mod http_server;

use std::sync::Arc;

use http_server::Server;
use mlops_serve::http::{CORRELATION_HEADER, ModelSlot};
use mlops_serve::rollout::{Arm, Canary};
use mlops_serve::{Predictor, Record};
use serde_json::{Value as Json, json};

fn records(t: &common::Telco, rows: std::ops::Range<usize>) -> Json {
    http_server::json_records(&t.test, rows)
}

fn post(base: &str, body: &Json, id: Option<&str>) -> (String, Json) {
    let mut req =
        ureq::post(&format!("{base}/invocations")).set("Content-Type", "application/json");
    if let Some(id) = id {
        req = req.set(CORRELATION_HEADER, id);
    }
    let resp = req.send_string(&body.to_string()).expect("200");
    let echoed = resp
        .header(CORRELATION_HEADER)
        .expect("echoed id")
        .to_owned();
    let body: Json = serde_json::from_str(&resp.into_string().expect("body")).expect("json");
    (echoed, body)
}

#[test]
fn canary_slot_routes_requests_and_reports_both_versions() {
    let t = common::telco();
    let stable = common::predictor(&t, common::logistic(&t), "churn", 1);
    let canary = common::predictor(&t, common::forest(&t, 5), "churn", 2);
    let c = Arc::new(Canary::new(stable, canary, 0.3, 7).expect("canary"));
    let slot = ModelSlot::new();
    slot.canary(Arc::clone(&c));
    let server = Server::start(slot);
    let one = records(&t, 0..1);

    // No header: a generated id routes each request; about 30% go to v2.
    let mut v2 = 0;
    for _ in 0..300 {
        let (id, body) = post(&server.base, &one, None);
        assert_eq!(id.len(), 16, "generated id {id}");
        match body["model"].as_str().expect("model") {
            "churn/1" => {}
            "churn/2" => v2 += 1,
            other => panic!("unexpected model {other}"),
        }
        assert_eq!(body["predictions"].as_array().expect("preds").len(), 1);
    }
    assert!((60..=120).contains(&v2), "{v2} of 300 at 30%");

    // A caller's id is sticky: the same side every time, the side
    // `Canary::route` names, and it is echoed back.
    for key in ["cust-1", "cust-2", "cust-3", "cust-4"] {
        let want = match c.route(key) {
            Arm::Stable => "churn/1",
            Arm::Candidate => "churn/2",
        };
        for _ in 0..3 {
            let (id, body) = post(&server.base, &one, Some(key));
            assert_eq!(id, key);
            assert_eq!(body["model"], want, "{key}");
        }
    }

    // A multi-row request is answered whole by one version, with that
    // version's scores.
    let five = records(&t, 0..5);
    let (_, body) = post(&server.base, &five, Some("batch-9"));
    let answered = body["model"].as_str().expect("model").to_owned();
    let got: Vec<f64> = body["predictions"]
        .as_array()
        .expect("preds")
        .iter()
        .map(|v| v.as_f64().expect("f64"))
        .collect();
    assert_eq!(got.len(), 5);

    // /metrics: both versions' counters, the weight and the routing counts.
    let text = ureq::get(&format!("{}/metrics", server.base))
        .call()
        .expect("metrics")
        .into_string()
        .expect("text");
    let scrape =
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parse");
    let sample = |metric: &str, label: (&str, &str)| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get(label.0) == Some(label.1))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                _ => panic!("{metric}: not a counter or gauge"),
            })
            .unwrap_or_else(|| panic!("{metric} {label:?} missing:\n{text}"))
    };
    let (routed_stable, routed_canary) = c.routed();
    assert_eq!(routed_stable + routed_canary, 300 + 12 + 1);
    assert_eq!(
        sample("mlops_canary_routed_total", ("arm", "stable")),
        routed_stable as f64
    );
    assert_eq!(
        sample("mlops_canary_routed_total", ("arm", "canary")),
        routed_canary as f64
    );
    assert!((sample("mlops_canary_weight", ("version", "2")) - 0.3).abs() < 1e-12);
    let rows_v1 = sample("mlops_predictions_total", ("version", "1"));
    let rows_v2 = sample("mlops_predictions_total", ("version", "2"));
    assert_eq!(rows_v1 + rows_v2, (300 + 12 + 5) as f64);
    assert!(rows_v2 >= v2 as f64);

    // /health names the stable model.
    let health: Json = serde_json::from_str(
        &ureq::get(&format!("{}/health", server.base))
            .call()
            .expect("health")
            .into_string()
            .expect("text"),
    )
    .expect("json");
    assert_eq!(health["model"], "churn/1");

    // Ramping the weight to 1 sends everything to the canary.
    c.set_weight(1.0).expect("weight");
    for i in 0..20 {
        let (_, body) = post(&server.base, &one, Some(&format!("late-{i}")));
        assert_eq!(body["model"], "churn/2");
    }
    server.shutdown();

    // The multi-row scores are the answering version's own (fresh
    // predictors of the same models, so the server's monitors are untouched).
    let model = if answered == "churn/2" {
        common::forest(&t, 5)
    } else {
        common::logistic(&t)
    };
    let local: Predictor = common::predictor(&t, model, "churn", 0);
    for (i, g) in got.iter().enumerate() {
        let want = local
            .predict(&Record::from_frame_row(&t.test, i))
            .expect("score")
            .value;
        assert!((g - want).abs() < 1e-12, "row {i}: {g} vs {want}");
    }
}

/// A multiclass package (Telco's `Contract`) answers `/invocations` with one
/// probability array per row, the predicted class per row and the class
/// order, equal to the package's own probabilities.
#[test]
fn multiclass_package_answers_probability_arrays() {
    let (package, frame) = common::contract_package();
    let expected = package.predict_proba_frame(&frame).expect("proba");
    let slot = ModelSlot::new();
    slot.load(Predictor::from_package(&package).expect("predictor"));
    let server = Server::start(slot);
    let rows = 0..50;
    let (_, body) = post(
        &server.base,
        &http_server::json_records(&frame, rows.clone()),
        None,
    );
    assert_eq!(
        body["classes"],
        json!(["Month-to-month", "One year", "Two year"])
    );
    let preds = body["predictions"].as_array().expect("predictions");
    let labels = body["labels"].as_array().expect("labels");
    assert_eq!(preds.len(), rows.len());
    for (i, (p, l)) in preds.iter().zip(labels).enumerate() {
        let p: Vec<f64> = p
            .as_array()
            .expect("array per row")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        let want = expected.row(i);
        // serde_json's default float parsing may differ in the last bit.
        assert_eq!(p.len(), 3);
        for (a, b) in p.iter().zip(want.iter()) {
            assert!((a - b).abs() < 1e-15, "row {i}: {a} vs {b}");
        }
        let best = (0..3).fold(0, |b, c| if want[c] > want[b] { c } else { b });
        assert_eq!(l, &body["classes"][best], "row {i}");
    }
    server.shutdown();
}
