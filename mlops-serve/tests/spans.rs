//! Tracing spans carry the correlation id. Alone in its test binary:
//! `tracing` caches callsite interest process-wide, and a test on another
//! thread with no subscriber can race this one's scoped subscriber.

mod common;

use std::sync::{Arc, Mutex};

use mlops_serve::{CorrelationId, Record};

/// Collects formatted tracing output.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn spans_carry_the_correlation_id() {
    use tracing_subscriber::fmt::format::FmtSpan;
    let t = common::telco();
    let p = common::predictor(&t, common::logistic(&t), "churn", 2);
    let buf = Buffer::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let generated = tracing::subscriber::with_default(subscriber, || {
        p.predict_with(
            &Record::from_frame_row(&t.test, 0),
            CorrelationId::from("req-77"),
        )
        .expect("score");
        p.predict(&Record::from_frame_row(&t.test, 1))
            .expect("score")
            .correlation_id
    });
    let out = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("mlops.predict"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("correlation_id=req-77") && lines[0].contains("model=churn"),
        "{out}"
    );
    assert!(
        lines[0].contains("version=2") && lines[0].contains("score="),
        "{out}"
    );
    assert!(
        lines[1].contains(&format!("correlation_id={generated}")),
        "{out}"
    );
}
