//! Rollouts on real Telco models: canary weights, shadow comparison, sticky
//! A/B with its z-test against scipy, blue-green with audited promotion and
//! rollback through registry aliases.

mod common;

use mlops_core::data::{Column, Frame, NumericColumn};
use mlops_core::features::{FeatureSpec, NumericFeature};
use mlops_core::model::{InferenceModel, LinearModel, Link};
use mlops_core::registry::AuditAction;
use mlops_serve::rollout::{AbTest, AliasControl, Arm, BlueGreen, Canary, Shadow};
use mlops_serve::{CorrelationId, ModelHandle, Predictor, Record};

#[test]
fn canary_routes_its_weight_stickily() {
    let t = common::telco();
    let stable = common::predictor(&t, common::logistic(&t), "churn", 1);
    let canary = common::predictor(&t, common::forest(&t, 5), "churn", 2);
    let c = Canary::new(stable, canary, 0.2, 99).expect("canary");
    let record = Record::from_frame_row(&t.test, 0);
    let mut to_canary = 0;
    for i in 0..2_000 {
        let id = CorrelationId::from(format!("req-{i}"));
        let (arm, score) = c.predict(&record, id.clone()).expect("score");
        assert_eq!(arm, c.route(&id.to_string()), "sticky");
        let expected = if arm == Arm::Candidate { 2 } else { 1 };
        assert_eq!(score.model.version, Some(expected));
        to_canary += usize::from(arm == Arm::Candidate);
    }
    assert!(
        (340..=460).contains(&to_canary),
        "{to_canary} of 2000 at 20%"
    );
    assert_eq!(c.routed(), (2_000 - to_canary as u64, to_canary as u64));
    c.set_weight(0.0).expect("weight");
    assert!((0..500).all(|i| c.route(&format!("k{i}")) == Arm::Stable));
    assert!(c.set_weight(1.5).is_err());
    assert!(Canary::new(c.stable().clone(), c.candidate().clone(), -0.1, 1).is_err());
}

/// A challenger that needs a column the records do not have.
fn picky_challenger() -> Predictor {
    let col = |v: Vec<f64>| Column::Numeric(NumericColumn::from_raw(v));
    let frame = Frame::new(vec![
        ("tenure".into(), col(vec![1.0, 10.0, 40.0])),
        ("extra".into(), col(vec![0.0, 1.0, 2.0])),
    ])
    .expect("frame");
    let features = FeatureSpec::new()
        .numeric(NumericFeature::new("tenure"))
        .numeric(NumericFeature::new("extra"))
        .fit(&frame)
        .expect("fit");
    let model = InferenceModel::Linear(
        LinearModel::new(vec![0.1, 0.1], 0.0, Link::Logistic).expect("model"),
    );
    Predictor::builder("picky", features, model)
        .build()
        .expect("predictor")
}

#[test]
fn shadow_compares_but_never_answers() {
    let t = common::telco();
    let primary = common::predictor(&t, common::logistic(&t), "churn", 1);
    let challenger = common::predictor(&t, common::forest(&t, 5), "churn", 2);
    let shadow = Shadow::new(primary.clone(), challenger.clone());
    let mut agree = 0;
    for r in 0..300 {
        let record = Record::from_frame_row(&t.test, r);
        let got = shadow
            .predict(&record, CorrelationId::from(format!("s{r}")))
            .expect("score");
        let p = primary.predict(&record).expect("primary");
        let c = challenger.predict(&record).expect("challenger");
        assert_eq!((got.value, got.model.version), (p.value, Some(1)));
        agree += usize::from(p.label == c.label);
    }
    let stats = shadow.stats();
    assert_eq!((stats.compared, stats.challenger_errors), (300, 0));
    assert_eq!(stats.label_agreements, agree as u64);
    assert!(stats.agreement_rate() > 0.6 && stats.mean_abs_diff() > 0.0);
    assert_eq!(
        challenger.monitor().snapshot().predictions,
        600,
        "shadow scores are monitored"
    );

    // A failing challenger never fails the request.
    let shadow = Shadow::new(primary, picky_challenger());
    let s = shadow.predict(
        &Record::from_frame_row(&t.test, 0),
        CorrelationId::generate(),
    );
    assert!(s.is_ok());
    assert_eq!(shadow.stats().challenger_errors, 1);
}

#[test]
fn ab_assignment_is_sticky_and_the_test_matches_scipy() {
    let t = common::telco();
    let a = common::predictor(&t, common::logistic(&t), "churn", 1);
    let b = common::predictor(&t, common::forest(&t, 5), "churn", 2);
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/serve_quality.json")).expect("fixture");
    for case in fixture["ab"].as_array().expect("cases") {
        let n = |k: &str| case[k].as_u64().expect("count");
        let ab = AbTest::new(a.clone(), b.clone(), 0.5, 7).expect("ab");
        let (mut need_a, mut need_b) = (n("trials_a"), n("trials_b"));
        let (mut succ_a, mut succ_b) = (n("successes_a"), n("successes_b"));
        let mut i = 0;
        while need_a + need_b > 0 {
            let key = format!("customer-{i}");
            i += 1;
            match ab.assign(&key) {
                Arm::Stable if need_a > 0 => {
                    need_a -= 1;
                    let success = succ_a > 0;
                    succ_a -= u64::from(success);
                    assert_eq!(ab.record_outcome(&key, success), Arm::Stable);
                }
                Arm::Candidate if need_b > 0 => {
                    need_b -= 1;
                    let success = succ_b > 0;
                    succ_b -= u64::from(success);
                    assert_eq!(ab.record_outcome(&key, success), Arm::Candidate);
                }
                _ => {}
            }
        }
        let r = ab.result();
        assert_eq!(
            (r.trials_a, r.successes_a),
            (n("trials_a"), n("successes_a"))
        );
        let (z, p) = (
            case["z"].as_f64().expect("z"),
            case["p_value"].as_f64().expect("p"),
        );
        assert!((r.z.abs() - z.abs()).abs() < 1e-9, "z {} vs {z}", r.z);
        assert!((r.p_value - p).abs() < 1e-9, "p {} vs {p}", r.p_value);
        assert_eq!(r.significant(0.05), p < 0.05);
    }
    // Sticky: a key's arm and its model never change.
    let ab = AbTest::new(a, b, 0.3, 11).expect("ab");
    let record = Record::from_frame_row(&t.test, 5);
    let mut in_b = 0;
    for i in 0..1_000 {
        let key = format!("user{i}");
        let (arm, s1) = ab
            .predict(&record, &key, CorrelationId::generate())
            .expect("s");
        let (arm2, s2) = ab
            .predict(&record, &key, CorrelationId::generate())
            .expect("s");
        assert_eq!((arm, s1.model.version), (arm2, s2.model.version));
        in_b += usize::from(arm == Arm::Candidate);
    }
    assert!((240..=360).contains(&in_b), "{in_b} of 1000 in B at 30%");
    assert!(ab.result().p_value.is_nan(), "no outcomes yet");
}

#[test]
fn blue_green_promotes_and_rolls_back_through_audited_aliases() {
    let t = common::telco();
    let (tracker, registry, v1, v2) = common::lr_and_rf_versions(&t, 5);
    registry
        .set_alias("churn", "champion", v1, "ci", "first")
        .expect("alias");
    let handle =
        ModelHandle::follow(registry.clone(), tracker.clone(), "churn@champion").expect("handle");
    let blue = Predictor::from_registry(&registry, &tracker, "churn/1").expect("v1");
    let green = Predictor::from_registry(&registry, &tracker, "churn/2").expect("v2");
    let bg = BlueGreen::new(blue, green);
    let control = AliasControl::new(registry.clone(), "churn", "champion");
    let record = Record::from_frame_row(&t.test, 2);

    bg.switch_and_promote(&control, "ana", "green passed the shadow")
        .expect("promote");
    assert_eq!(
        bg.predict(&record, CorrelationId::generate())
            .expect("s")
            .model
            .version,
        Some(v2)
    );
    assert_eq!(
        registry.resolve("churn@champion").expect("alias").version,
        v2
    );
    assert!(handle.refresh().expect("refresh"));
    assert_eq!(handle.predict(&record).expect("s").model.version, Some(v2));

    bg.rollback(&control, "ana", "latency regression")
        .expect("rollback");
    assert_eq!(bg.live().id().version, Some(v1));
    assert_eq!(
        registry.resolve("churn@champion").expect("alias").version,
        v1
    );
    assert!(handle.refresh().expect("refresh"));
    assert_eq!(handle.current().id().version, Some(v1));

    let history = registry.alias_history("churn", "champion").expect("audit");
    let last: Vec<_> = history.iter().rev().take(2).collect();
    assert_eq!(last[0].action, AuditAction::Rollback);
    assert_eq!(
        (last[0].from, last[0].to, last[0].actor.as_str()),
        (Some(v2), Some(v1), "ana")
    );
    assert_eq!(last[1].action, AuditAction::SetAlias);
    assert_eq!(
        (last[1].to, last[1].reason.as_str()),
        (Some(v2), "green passed the shadow")
    );

    // Only registered versions of this model can be promoted.
    let err = control.promote(&picky_challenger(), "ana", "wrong model");
    assert!(err.is_err());
    assert_eq!(
        registry.resolve("churn@champion").expect("alias").version,
        v1
    );
}
