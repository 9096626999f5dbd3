//! Filter parsing and evaluation cost: a search evaluates the filter on
//! every candidate run, so `matches` must stay in the tens of nanoseconds.
//!
//! `cargo bench -p mlops-core --bench filter`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use mlops_core::filter::{AttrValue, Attribute, Filter, OrderBy, Searchable};

/// A compact run summary as a tracker might keep it: small sorted vectors.
struct Summary {
    metrics: Vec<(String, f64)>,
    params: Vec<(String, String)>,
    tags: Vec<(String, String)>,
    start: i64,
}

fn find<'a, T>(items: &'a [(String, T)], key: &str) -> Option<&'a T> {
    items
        .binary_search_by(|(k, _)| k.as_str().cmp(key))
        .ok()
        .map(|i| &items[i].1)
}

impl Searchable for Summary {
    fn metric(&self, key: &str) -> Option<f64> {
        find(&self.metrics, key).copied()
    }
    fn param(&self, key: &str) -> Option<&str> {
        find(&self.params, key).map(String::as_str)
    }
    fn tag(&self, key: &str) -> Option<&str> {
        find(&self.tags, key).map(String::as_str)
    }
    fn attribute(&self, attr: Attribute) -> Option<AttrValue<'_>> {
        match attr {
            Attribute::Status => Some(AttrValue::Text("FINISHED")),
            Attribute::StartTime => Some(AttrValue::Time(self.start)),
            _ => None,
        }
    }
}

fn runs(n: usize) -> Vec<Summary> {
    const MODELS: [&str; 3] = ["gbm", "logreg", "rf"];
    const TEAMS: [&str; 2] = ["growth", "risk"];
    (0..n)
        .map(|i| {
            let mut metrics: Vec<(String, f64)> = (0..10)
                .map(|m| (format!("m{m}"), ((i * 7 + m * 13) % 100) as f64 / 100.0))
                .collect();
            metrics.push(("auc".into(), (i % 1000) as f64 / 1000.0));
            metrics.sort_by(|a, b| a.0.cmp(&b.0));
            let mut params: Vec<(String, String)> = (0..9)
                .map(|p| (format!("p{p}"), format!("v{}", i % (p + 2))))
                .collect();
            params.push(("model".into(), MODELS[i % 3].into()));
            params.sort_by(|a, b| a.0.cmp(&b.0));
            Summary {
                metrics,
                params,
                tags: vec![("team".into(), TEAMS[i % 2].into())],
                start: 1_700_000_000_000 + i as i64,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let text = "metrics.auc > 0.8 AND (params.model = 'rf' OR tags.team = 'growth')";
    c.bench_function("filter/parse_design_example", |b| {
        b.iter(|| Filter::parse(black_box(text)))
    });

    let filter = Filter::parse(text).expect("valid filter");
    let runs = runs(10_000);
    c.bench_function("filter/matches_10k_runs", |b| {
        b.iter(|| runs.iter().filter(|r| filter.matches(*r)).count())
    });

    let like =
        Filter::parse("params.p3 LIKE 'v%1' AND tags.team ILIKE 'GROW%'").expect("valid filter");
    c.bench_function("filter/like_10k_runs", |b| {
        b.iter(|| runs.iter().filter(|r| like.matches(*r)).count())
    });

    let order = OrderBy::parse("metrics.auc DESC, start_time").expect("valid order-by");
    c.bench_function("filter/sort_10k_runs", |b| {
        b.iter(|| {
            let mut refs: Vec<&Summary> = runs.iter().collect();
            refs.sort_by(|a, b| order.compare(*a, *b));
            refs.len()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
