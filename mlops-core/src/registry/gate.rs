//! Promotion gates: a candidate version takes an alias only if it beats the
//! current holder on named metrics by a minimum margin.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Registry;
use super::alias::stage_alias_move;
use super::audit::{AuditAction, AuditEntry, append_audit, validate_actor};
use crate::error::{Error, Result};

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// Larger is better (ROC AUC, accuracy).
    HigherIsBetter,
    /// Smaller is better (log loss, RMSE).
    LowerIsBetter,
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    metric: String,
    direction: Direction,
    min_improvement: f64,
}

/// Unchecked gate rules; [`build`](Self::build) validates them.
#[derive(Debug, Clone, Default)]
pub struct PromotionGateBuilder {
    rules: Vec<Rule>,
}

impl PromotionGateBuilder {
    /// The candidate must exceed the holder on `metric` by at least
    /// `min_improvement` (absolute, `>= 0`; 0 means "not worse").
    pub fn higher_is_better(self, metric: impl Into<String>, min_improvement: f64) -> Self {
        self.rule(metric.into(), Direction::HigherIsBetter, min_improvement)
    }

    /// The candidate must be below the holder on `metric` by at least
    /// `min_improvement` (absolute, `>= 0`).
    pub fn lower_is_better(self, metric: impl Into<String>, min_improvement: f64) -> Self {
        self.rule(metric.into(), Direction::LowerIsBetter, min_improvement)
    }

    fn rule(mut self, metric: String, direction: Direction, min_improvement: f64) -> Self {
        self.rules.push(Rule {
            metric,
            direction,
            min_improvement,
        });
        self
    }

    /// Checks the rules: at least one, distinct non-empty metric names,
    /// finite non-negative minimum improvements.
    pub fn build(self) -> Result<PromotionGate> {
        let bad = |reason: String| Error::InvalidParameter {
            name: "promotion gate",
            reason,
        };
        if self.rules.is_empty() {
            return Err(bad("no metric to compare".into()));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if r.metric.trim().is_empty() {
                return Err(bad("empty metric name".into()));
            }
            if !(r.min_improvement.is_finite() && r.min_improvement >= 0.0) {
                return Err(bad(format!(
                    "metric `{}`: minimum improvement {} must be finite and >= 0",
                    r.metric, r.min_improvement
                )));
            }
            if self.rules[..i].iter().any(|o| o.metric == r.metric) {
                return Err(bad(format!("metric `{}` named twice", r.metric)));
            }
        }
        Ok(PromotionGate { rules: self.rules })
    }
}

/// A validated promotion gate; see [`Registry::promote`].
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionGate {
    rules: Vec<Rule>,
}

impl PromotionGate {
    /// Starts a gate.
    pub fn builder() -> PromotionGateBuilder {
        PromotionGateBuilder::default()
    }

    /// Compares `candidate`'s metrics with `holder`'s on every rule.
    fn compare(
        &self,
        candidate: &BTreeMap<String, f64>,
        holder: &BTreeMap<String, f64>,
    ) -> Vec<MetricComparison> {
        self.rules
            .iter()
            .map(|r| {
                let c = candidate.get(&r.metric).copied();
                let h = holder.get(&r.metric).copied();
                let improvement = match (c, h, r.direction) {
                    (Some(c), Some(h), Direction::HigherIsBetter) => Some(c - h),
                    (Some(c), Some(h), Direction::LowerIsBetter) => Some(h - c),
                    _ => None,
                };
                MetricComparison {
                    metric: r.metric.clone(),
                    direction: r.direction,
                    candidate: c,
                    holder: h,
                    improvement,
                    min_improvement: r.min_improvement,
                    passed: improvement.is_some_and(|d| d >= r.min_improvement),
                }
            })
            .collect()
    }
}

/// One metric compared by a gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// The metric.
    pub metric: String,
    /// Which way it improves.
    pub direction: Direction,
    /// The candidate's value (`None`: missing).
    pub candidate: Option<f64>,
    /// The holder's value (`None`: missing).
    pub holder: Option<f64>,
    /// Improvement in the metric's good direction (`None` when a value is
    /// missing).
    pub improvement: Option<f64>,
    /// The improvement required.
    pub min_improvement: f64,
    /// Whether this metric passed.
    pub passed: bool,
}

impl MetricComparison {
    fn describe(&self) -> String {
        let show = |v: Option<f64>| v.map_or_else(|| "missing".to_owned(), |v| format!("{v}"));
        format!(
            "{}: candidate {} vs holder {} ({:?}, need +{}) {}",
            self.metric,
            show(self.candidate),
            show(self.holder),
            self.direction,
            self.min_improvement,
            if self.passed { "pass" } else { "fail" }
        )
    }
}

/// Metrics of a candidate and of the alias holder measured on the same
/// data (e.g. the latest month of labelled traffic), for
/// [`Registry::promote_on`]. The metrics registered with each version come
/// from each version's own test set, which differ once the population
/// drifts; this compares like with like.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GateEvidence {
    /// What the metrics were measured on, in words (kept in the audit log).
    pub data: String,
    /// The holder version the `holder` metrics belong to; the gate refuses
    /// to decide if the alias has moved since.
    pub holder_version: u32,
    /// The candidate's metrics on `data`.
    pub candidate: BTreeMap<String, f64>,
    /// The holder's metrics on `data`.
    pub holder: BTreeMap<String, f64>,
}

/// What a gate decided; also written to the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateDecision {
    /// The model.
    pub model: String,
    /// The alias at stake.
    pub alias: String,
    /// The candidate version.
    pub candidate: u32,
    /// The version holding the alias before the decision.
    pub holder: Option<u32>,
    /// Whether the alias moved to the candidate.
    pub promoted: bool,
    /// Every metric comparison (empty when there was no holder).
    pub comparisons: Vec<MetricComparison>,
    /// Why, in words.
    pub reason: String,
    /// Sequence number of the audit entry that records the decision.
    pub audit_seq: u64,
}

impl Registry {
    /// Runs `gate` for `candidate` against the current holder of `alias`
    /// and moves the alias when the candidate passes every rule. With no
    /// current holder the candidate is promoted. A metric missing on either
    /// side fails its rule. The decision, promoted or not, is written to the
    /// audit log in the same batch as the alias move.
    pub fn promote(
        &self,
        model: &str,
        alias: &str,
        candidate: u32,
        gate: &PromotionGate,
        actor: &str,
    ) -> Result<GateDecision> {
        self.decide(model, alias, candidate, gate, actor, None)
    }

    /// [`promote`](Self::promote) comparing metrics both sides scored on the
    /// same data ([`GateEvidence`]) instead of the metrics registered with
    /// each version. The audit entry names the data.
    ///
    /// Errors: [`Error::StaleEvidence`] when `alias` no longer points at
    /// `evidence.holder_version` (nothing is written); the errors of
    /// [`promote`](Self::promote).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mlops_core::registry::{GateEvidence, NewVersion, PromotionGate, Registry};
    /// use mlops_core::store::MemoryStore;
    /// use mlops_core::tracking::{RunOptions, Tracker};
    ///
    /// let reg = Registry::new(Arc::new(MemoryStore::new()));
    /// let tracker = Tracker::new(reg.store().clone());
    /// let exp = tracker.experiment("churn")?;
    /// let version = |bytes: &[u8], auc: f64| -> mlops_core::Result<NewVersion> {
    ///     let run = tracker.start_run(&exp, RunOptions::default())?;
    ///     let digest = run.log_artifact("model.bin", bytes)?;
    ///     let id = run.id().to_owned();
    ///     run.finish()?;
    ///     Ok(NewVersion::new(id, digest).metric("roc_auc", auc))
    /// };
    /// reg.create_model("churn", "")?;
    /// let v1 = reg.register_version("churn", version(b"one", 0.84)?)?;
    /// let v2 = reg.register_version("churn", version(b"two", 0.80)?)?;
    /// reg.set_alias("churn", "champion", v1.version, "ci", "first")?;
    /// let gate = PromotionGate::builder().higher_is_better("roc_auc", 0.01).build()?;
    /// // On March's traffic v1 fell to 0.71 and v2 scores 0.79: v2 wins,
    /// // although its registered test AUC is lower.
    /// let evidence = GateEvidence {
    ///     data: "2026-03 labelled traffic".into(),
    ///     holder_version: v1.version,
    ///     candidate: [("roc_auc".to_owned(), 0.79)].into(),
    ///     holder: [("roc_auc".to_owned(), 0.71)].into(),
    /// };
    /// let d = reg.promote_on("churn", "champion", v2.version, &gate, "ci", &evidence)?;
    /// assert!(d.promoted);
    /// # Ok::<(), mlops_core::Error>(())
    /// ```
    pub fn promote_on(
        &self,
        model: &str,
        alias: &str,
        candidate: u32,
        gate: &PromotionGate,
        actor: &str,
        evidence: &GateEvidence,
    ) -> Result<GateDecision> {
        self.decide(model, alias, candidate, gate, actor, Some(evidence))
    }

    fn decide(
        &self,
        model: &str,
        alias: &str,
        candidate: u32,
        gate: &PromotionGate,
        actor: &str,
        evidence: Option<&GateEvidence>,
    ) -> Result<GateDecision> {
        super::validate_name("alias", alias)?;
        validate_actor(actor)?;
        let decision = self.mutate(model, |m, batch, now| {
            let cand = self.get_version(model, candidate)?;
            let holder = self.find_alias(model, alias)?;
            let (promoted, comparisons, reason) = match &holder {
                None if evidence.is_some() => {
                    return Err(Error::StaleEvidence {
                        model: model.to_owned(),
                        alias: alias.to_owned(),
                        evaluated: evidence.map_or(0, |e| e.holder_version),
                        holder: None,
                    });
                }
                None => (true, Vec::new(), format!("alias `{alias}` had no holder")),
                Some(h) if h.version == candidate => (
                    false,
                    Vec::new(),
                    format!("version {candidate} already holds `{alias}`"),
                ),
                Some(h) => {
                    let comparisons = match evidence {
                        None => {
                            let held = self.get_version(model, h.version)?;
                            gate.compare(&cand.metrics, &held.metrics)
                        }
                        Some(e) if e.holder_version == h.version => {
                            gate.compare(&e.candidate, &e.holder)
                        }
                        Some(e) => {
                            return Err(Error::StaleEvidence {
                                model: model.to_owned(),
                                alias: alias.to_owned(),
                                evaluated: e.holder_version,
                                holder: Some(h.version),
                            });
                        }
                    };
                    let reason = verdict(&comparisons, candidate, h.version);
                    (comparisons.iter().all(|c| c.passed), comparisons, reason)
                }
            };
            let mut entry =
                AuditEntry::draft(actor, AuditAction::GateDecision { promoted }, &reason);
            entry.alias = Some(alias.to_owned());
            entry.from = holder.as_ref().map(|h| h.version);
            entry.to = Some(candidate);
            entry.details = comparisons
                .iter()
                .map(MetricComparison::describe)
                .collect::<Vec<_>>()
                .join("; ");
            if let Some(e) = evidence.filter(|_| !comparisons.is_empty()) {
                entry.details = format!("on {}: {}", e.data, entry.details);
            }
            let audit_seq = m.audit_len + 1;
            if promoted {
                stage_alias_move(batch, m, alias, entry, now)?;
            } else {
                // Record the decision without touching the alias.
                append_audit(batch, m, now, entry)?;
            }
            Ok(GateDecision {
                model: model.to_owned(),
                alias: alias.to_owned(),
                candidate,
                holder: holder.map(|h| h.version),
                promoted,
                comparisons,
                reason,
                audit_seq,
            })
        })?;
        tracing::info!(
            model, alias, candidate, promoted = decision.promoted,
            reason = %decision.reason, "promotion gate decided"
        );
        Ok(decision)
    }
}

/// The gate's verdict in words.
fn verdict(comparisons: &[MetricComparison], candidate: u32, holder: u32) -> String {
    let failed: Vec<&str> = comparisons
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.metric.as_str())
        .collect();
    let missing: Vec<String> = comparisons
        .iter()
        .filter_map(|c| match (c.candidate, c.holder) {
            (None, _) => Some(format!("candidate lacks `{}`", c.metric)),
            (_, None) => Some(format!("holder lacks `{}`", c.metric)),
            _ => None,
        })
        .collect();
    if failed.is_empty() {
        format!("version {candidate} beats version {holder} on every metric")
    } else if !missing.is_empty() {
        format!("cannot compare: {}", missing.join(", "))
    } else {
        format!(
            "version {candidate} does not beat version {holder} on {}",
            failed.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::backends;
    use super::*;

    fn gate() -> PromotionGate {
        PromotionGate::builder()
            .higher_is_better("auc", 0.01)
            .lower_is_better("log_loss", 0.0)
            .build()
            .expect("valid gate")
    }

    fn version(reg: &Registry, auc: f64, log_loss: Option<f64>) -> u32 {
        let mut nv = super::super::test_support::logged(reg, &format!("{auc} {log_loss:?}"))
            .metric("auc", auc);
        if let Some(l) = log_loss {
            nv = nv.metric("log_loss", l);
        }
        reg.register_version("m", nv).expect("register").version
    }

    #[test]
    fn gate_rules_are_validated() {
        let b = PromotionGate::builder;
        for bad in [
            b(),
            b().higher_is_better("", 0.0),
            b().higher_is_better("auc", -0.1),
            b().higher_is_better("auc", f64::NAN),
            b().higher_is_better("auc", 0.0).lower_is_better("auc", 0.0),
        ] {
            let err = bad.build().expect_err("invalid gate");
            assert!(
                matches!(
                    err,
                    Error::InvalidParameter {
                        name: "promotion gate",
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn promotion_compares_with_the_holder_and_audits_every_decision() {
        for (_dir, reg) in backends() {
            reg.create_model("m", "").expect("create");
            let v1 = version(&reg, 0.80, Some(0.50));
            let d = reg
                .promote("m", "champion", v1, &gate(), "ci")
                .expect("promote");
            assert!(
                d.promoted && d.holder.is_none() && d.comparisons.is_empty(),
                "{d:?}"
            );

            // +0.005 AUC is below the 0.01 margin.
            let v2 = version(&reg, 0.805, Some(0.40));
            let d = reg
                .promote("m", "champion", v2, &gate(), "ci")
                .expect("gate");
            assert!(!d.promoted);
            assert_eq!(d.holder, Some(v1));
            assert!(
                d.reason.contains("does not beat version 1 on auc"),
                "{}",
                d.reason
            );
            assert!(!d.comparisons[0].passed && d.comparisons[1].passed);
            let imp = d.comparisons[0].improvement.expect("both present");
            assert!((imp - 0.005).abs() < 1e-12);
            assert_eq!(reg.get_alias("m", "champion").expect("alias").version, v1);

            // Missing metric on the candidate: rejected, with the reason.
            let v3 = version(&reg, 0.90, None);
            let d = reg
                .promote("m", "champion", v3, &gate(), "ci")
                .expect("gate");
            assert!(!d.promoted);
            assert_eq!(d.reason, "cannot compare: candidate lacks `log_loss`");

            // Better on both: promoted.
            let v4 = version(&reg, 0.85, Some(0.45));
            let d = reg
                .promote("m", "champion", v4, &gate(), "ci")
                .expect("gate");
            assert!(d.promoted, "{d:?}");
            assert_eq!(reg.resolve("m@champion").expect("resolve").version, v4);

            let again = reg
                .promote("m", "champion", v4, &gate(), "ci")
                .expect("gate");
            assert!(!again.promoted);

            let gates: Vec<(bool, Option<u32>, Option<u32>, u64)> = reg
                .alias_history("m", "champion")
                .expect("history")
                .into_iter()
                .filter_map(|e| match e.action {
                    AuditAction::GateDecision { promoted } => Some((promoted, e.from, e.to, e.seq)),
                    _ => None,
                })
                .collect();
            assert_eq!(
                gates.iter().map(|g| (g.0, g.1, g.2)).collect::<Vec<_>>(),
                [
                    (true, None, Some(v1)),
                    (false, Some(v1), Some(v2)),
                    (false, Some(v1), Some(v3)),
                    (true, Some(v1), Some(v4)),
                    (false, Some(v4), Some(v4)),
                ]
            );
            assert_eq!(gates[3].3, d.audit_seq);
            let entry = reg
                .audit_log("m")
                .expect("log")
                .into_iter()
                .find(|e| e.seq == d.audit_seq)
                .expect("entry");
            assert!(
                entry.details.contains("auc: candidate 0.85 vs holder 0.8"),
                "{}",
                entry.details
            );

            // Rollback undoes the promotion, skipping rejected decisions.
            let back = reg
                .rollback("m", "champion", "ana", "incident")
                .expect("rollback");
            assert_eq!(back.version, v1);
            assert!(matches!(
                reg.promote("m", "champion", 99, &gate(), "ci"),
                Err(Error::VersionNotFound { version: 99, .. })
            ));
        }
    }

    #[test]
    fn promotion_on_shared_evidence_compares_like_with_like() {
        for (_dir, reg) in backends() {
            reg.create_model("m", "").expect("create");
            let v1 = version(&reg, 0.90, Some(0.30));
            let v2 = version(&reg, 0.80, Some(0.50));
            reg.set_alias("m", "champion", v1, "ci", "first")
                .expect("alias");
            // On registered metrics v2 loses.
            assert!(
                !reg.promote("m", "champion", v2, &gate(), "ci")
                    .expect("gate")
                    .promoted
            );
            // On the same recent data v2 wins by both rules.
            let metrics = |auc: f64, loss: f64| {
                BTreeMap::from([("auc".to_owned(), auc), ("log_loss".to_owned(), loss)])
            };
            let evidence = GateEvidence {
                data: "month 5".into(),
                holder_version: v1,
                candidate: metrics(0.78, 0.45),
                holder: metrics(0.70, 0.52),
            };
            let d = reg
                .promote_on("m", "champion", v2, &gate(), "ci", &evidence)
                .expect("gate");
            assert!(d.promoted, "{d:?}");
            let imp = d.comparisons[0].improvement.expect("both");
            assert!((imp - 0.08).abs() < 1e-12);
            let entry = reg
                .audit_log("m")
                .expect("log")
                .into_iter()
                .find(|e| e.seq == d.audit_seq)
                .expect("entry");
            assert!(
                entry.details.starts_with("on month 5: auc: candidate 0.78"),
                "{}",
                entry.details
            );
            // The alias moved to v2: evidence about v1 is stale and changes
            // nothing.
            let v3 = version(&reg, 0.99, Some(0.1));
            let before = reg.audit_log("m").expect("log").len();
            let err = reg
                .promote_on("m", "champion", v3, &gate(), "ci", &evidence)
                .expect_err("stale");
            assert!(
                matches!(
                    err,
                    Error::StaleEvidence {
                        evaluated: 1,
                        holder: Some(2),
                        ..
                    }
                ),
                "{err}"
            );
            assert_eq!(reg.audit_log("m").expect("log").len(), before);
            reg.delete_alias("m", "champion", "ci", "gone")
                .expect("delete");
            assert!(matches!(
                reg.promote_on("m", "champion", v3, &gate(), "ci", &evidence),
                Err(Error::StaleEvidence { holder: None, .. })
            ));
        }
    }
}
