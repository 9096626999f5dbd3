//! Batch scoring checked against the in-memory path of `mlops-core`
//! (`CsvReader` + `FittedFeatures::transform` + `InferenceModel::predict`).

use std::io::Write;

use mlops_core::data::{CsvReader, Frame};
use mlops_core::drift::{DriftMonitor, DriftOptions, MonitorConfig, Profile, ProfileConfig};
use mlops_core::features::{CategoricalFeature, FeatureSpec, NumericFeature};
use mlops_core::model::{InferenceModel, LinearModel, Link};
use mlops_core::seed::Seed;
use mlops_core::synth::ChurnSynth;

use super::model::Model;
use super::*;

fn synth_csv(rows: u64, seed: u64) -> Vec<u8> {
    let mut csv = Vec::new();
    ChurnSynth::new(Seed(seed))
        .rows(rows)
        .write_csv(&mut csv)
        .expect("synth");
    csv
}

/// A logistic model over the features fitted on `train`, with weights that
/// use every feature.
fn model_for(train: &Frame, profile: bool) -> Model {
    let spec = FeatureSpec::infer(train, "Churn", Some("Yes")).expect("spec");
    let fitted = spec.fit(train).expect("fit");
    let weights: Vec<f64> = (0..fitted.n_outputs())
        .map(|i| ((i * 7 % 11) as f64 - 5.0) / 10.0)
        .collect();
    let model = InferenceModel::Linear(LinearModel::new(weights, 0.2, Link::Logistic).expect("lm"));
    let profile =
        profile.then(|| Profile::from_frame(train, &ProfileConfig::default()).expect("profile"));
    Model::new(fitted, model, Some(0.5), profile).expect("model")
}

fn read(csv: &[u8]) -> Frame {
    CsvReader::new().read(csv, "test.csv").expect("read").frame
}

struct Run {
    summary: Result<BatchSummary>,
    out: String,
    rejects: String,
}

fn run(scorer: &BatchScorer, input: &[u8]) -> Run {
    let mut out = Vec::new();
    let mut rejects = Vec::new();
    let summary = scorer.score_csv(
        input,
        "test.csv",
        &mut out,
        Some(&mut rejects as &mut (dyn Write + Send)),
        None,
    );
    Run {
        summary,
        out: String::from_utf8(out).expect("utf8"),
        rejects: String::from_utf8(rejects).expect("utf8"),
    }
}

#[test]
fn csv_scores_match_the_in_memory_path_in_input_order() {
    let csv = synth_csv(3_000, 1);
    let frame = read(&csv);
    let model = model_for(&frame, false);
    let expected = reference(&model, &frame);
    let ids = frame.categorical("customerID").expect("ids");
    for (chunk_rows, threads) in [(97, 2), (1, 1), (10_000, 2), (512, 3)] {
        let scorer = BatchScorer::from_model(
            model.clone(),
            BatchConfig::new()
                .chunk_rows(chunk_rows)
                .threads(threads)
                .id_column("customerID"),
        )
        .expect("scorer");
        let r = run(&scorer, &csv);
        let summary = r.summary.expect("scored");
        assert_eq!(
            (summary.rows, summary.scored, summary.rejected),
            (3_000, 3_000, 0)
        );
        let mut lines = r.out.lines();
        assert_eq!(lines.next(), Some("customerID,score,label"));
        let mut n = 0;
        for (i, line) in lines.enumerate() {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(
                f[0],
                ids.get(i).expect("id"),
                "row {i} chunk_rows={chunk_rows}"
            );
            let score: f64 = f[1].parse().expect("score");
            assert_eq!(score, expected[i], "row {i}");
            assert_eq!(f[2], if score >= 0.5 { "1" } else { "0" });
            n += 1;
        }
        assert_eq!(n, 3_000);
    }
}

/// Reference scores through the frame path (`transform` + `predict`), which
/// shares no code with the record path beyond the fitted maps.
fn reference(model: &Model, frame: &Frame) -> Vec<f64> {
    let x = model.features().transform(frame).expect("transform");
    model.inference().predict(&x).expect("predict").to_vec()
}

#[test]
fn bad_rows_go_to_rejects_with_line_and_reason() {
    let good = synth_csv(200, 2);
    let text = String::from_utf8(good).expect("utf8");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let tenure = header.iter().position(|h| *h == "tenure").expect("tenure");
    let charges = header
        .iter()
        .position(|h| *h == "MonthlyCharges")
        .expect("charges");
    // Line numbers are 1-based with the header on line 1.
    let mut bad = |line: usize, col: usize, value: &str| {
        let mut f: Vec<String> = lines[line - 1].split(',').map(str::to_owned).collect();
        f[col] = value.to_owned();
        lines[line - 1] = f.join(",");
    };
    bad(5, tenure, "twelve");
    bad(50, charges, "inf");
    lines[120 - 1] = "only,three,fields".into();
    let input = lines.join("\n") + "\n";
    let frame = read(&synth_csv(200, 2));
    let model = model_for(&frame, false);

    let strict =
        BatchScorer::from_model(model.clone(), BatchConfig::new().chunk_rows(16)).expect("scorer");
    let r = run(&strict, input.as_bytes());
    match r.summary {
        Err(Error::TooManyRejects {
            rejected: 3,
            rows: 200,
            first_reason: Some(first),
            ..
        }) => assert!(first.starts_with("line 5:"), "{first}"),
        other => panic!("expected TooManyRejects, got {other:?}"),
    }
    // The outputs are complete even when the job fails.
    assert_eq!(r.out.lines().count(), 1 + 197);

    let lenient = BatchScorer::from_model(
        model,
        BatchConfig::new().chunk_rows(16).max_reject_ratio(0.02),
    )
    .expect("scorer");
    let r = run(&lenient, input.as_bytes());
    let summary = r.summary.expect("within ratio");
    assert_eq!(
        (summary.rows, summary.scored, summary.rejected),
        (200, 197, 3)
    );
    let rejects: Vec<&str> = r.rejects.lines().collect();
    assert!(rejects[0].starts_with("line,column,reason,customerID,"));
    assert_eq!(rejects.len(), 4);
    assert!(
        rejects[1].starts_with("5,tenure,`twelve` is not a number"),
        "{}",
        rejects[1]
    );
    assert!(
        rejects[2].starts_with("50,MonthlyCharges,"),
        "{}",
        rejects[2]
    );
    assert!(rejects[2].contains("non-finite"), "{}", rejects[2]);
    assert_eq!(
        rejects[3],
        "120,,\"record has 3 fields, the header has 21\",only,three,fields"
    );
}

#[test]
fn quoted_line_breaks_keep_line_numbers() {
    let csv = "id,x,c\n1,1.5,\"multi\nline\"\n2,oops,a\n3,2.5,\"q\"\"uote\"\n4,x,b\n";
    let train = CsvReader::new()
        .read("id,x,c\n1,1.0,a\n2,2.0,b\n".as_bytes(), "train")
        .expect("train")
        .frame;
    let spec = FeatureSpec::new()
        .numeric(NumericFeature::new("x"))
        .categorical(CategoricalFeature::new("c"));
    let fitted = spec.fit(&train).expect("fit");
    let model = InferenceModel::Linear(
        LinearModel::new(vec![0.1; fitted.n_outputs()], 0.0, Link::Identity).expect("lm"),
    );
    let model = Model::new(fitted, model, None, None).expect("model");
    for chunk_rows in [1, 2, 100] {
        let scorer = BatchScorer::from_model(
            model.clone(),
            BatchConfig::new()
                .chunk_rows(chunk_rows)
                .max_reject_ratio(1.0)
                .id_column("id"),
        )
        .expect("scorer");
        let r = run(&scorer, csv.as_bytes());
        let s = r.summary.expect("ok");
        assert_eq!((s.rows, s.rejected), (4, 2));
        let ids: Vec<&str> = r.out.lines().skip(1).map(|l| &l[..1]).collect();
        assert_eq!(ids, ["1", "3"]);
        let lines: Vec<&str> = r
            .rejects
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap_or(""))
            .collect();
        assert_eq!(lines, ["4", "6"], "chunk_rows={chunk_rows}");
    }
}

/// Windows line endings and blank lines: reject line numbers are the
/// file's own (the csv crate's record positions lag a line after `\r\n`).
#[test]
fn crlf_and_blank_lines_keep_line_numbers() {
    let train = CsvReader::new()
        .read("id,x\n1,1.0\n2,2.0\n".as_bytes(), "train")
        .expect("train")
        .frame;
    let fitted = FeatureSpec::new()
        .numeric(NumericFeature::new("x"))
        .fit(&train)
        .expect("fit");
    let model = InferenceModel::Linear(
        LinearModel::new(vec![0.1; fitted.n_outputs()], 0.0, Link::Identity).expect("lm"),
    );
    let model = Model::new(fitted, model, None, None).expect("model");
    // Lines: 1 header, 2 ok, 3 bad, 4 ok, 5 blank, 6 bad, 7 ok, 8 bad.
    let lines = [
        "id,x", "1,1.5", "2,oops", "3,2.5", "", "4,x", "5,0.5", "6,?",
    ];
    for eol in ["\n", "\r\n"] {
        let csv = lines.join(eol) + eol;
        for chunk_rows in [1, 2, 100] {
            let scorer = BatchScorer::from_model(
                model.clone(),
                BatchConfig::new()
                    .chunk_rows(chunk_rows)
                    .max_reject_ratio(1.0)
                    .id_column("id"),
            )
            .expect("scorer");
            let r = run(&scorer, csv.as_bytes());
            let s = r.summary.expect("ok");
            assert_eq!((s.rows, s.rejected), (6, 3), "{eol:?} {chunk_rows}");
            let ids: Vec<&str> = r.out.lines().skip(1).map(|l| &l[..1]).collect();
            assert_eq!(ids, ["1", "3", "5"]);
            let reject_lines: Vec<&str> = r
                .rejects
                .lines()
                .skip(1)
                .map(|l| l.split(',').next().unwrap_or(""))
                .collect();
            assert_eq!(
                reject_lines,
                ["3", "6", "8"],
                "eol={eol:?} chunk_rows={chunk_rows}"
            );
        }
    }
}

#[test]
fn a_missing_input_column_fails_before_writing() {
    let csv = synth_csv(50, 3);
    let model = model_for(&read(&csv), false);
    let scorer = BatchScorer::from_model(model, BatchConfig::new()).expect("scorer");
    let text = String::from_utf8(csv).expect("utf8");
    let cut = text.replacen("tenure", "tenure_months", 1);
    let r = run(&scorer, cut.as_bytes());
    let err = r.summary.expect_err("no tenure");
    assert!(err.to_string().contains("no column `tenure`"), "{err}");
    assert!(r.out.is_empty());
    let r = run(&scorer, b"");
    assert!(matches!(r.summary, Err(Error::BadHeader { .. })));
}

#[test]
fn drift_report_equals_one_monitor_fed_every_row() {
    let train = read(&synth_csv(2_000, 4));
    let current_csv = {
        let mut csv = Vec::new();
        ChurnSynth::new(Seed(5))
            .rows(3_000)
            .shift(0.8)
            .write_csv(&mut csv)
            .expect("synth");
        csv
    };
    let model = model_for(&train, true);
    let scorer =
        BatchScorer::from_model(model.clone(), BatchConfig::new().chunk_rows(111).threads(2))
            .expect("scorer");
    let r = run(&scorer, &current_csv);
    let summary = r.summary.expect("scored");
    let drift = summary.drift.expect("drift report");
    let profile = model.profile().expect("profile");
    let mut one = DriftMonitor::new(profile, MonitorConfig::default(), DriftOptions::default())
        .expect("monitor");
    one.observe_frame(&read(&current_csv)).expect("observe");
    assert_eq!(drift, one.report());
    assert!(
        drift.dataset_drift || drift.n_drifted > 0,
        "a shifted batch drifts"
    );
    // The frame path gives the same report.
    let frame = scorer.score_frame(&read(&current_csv)).expect("frame");
    assert_eq!(frame.summary.drift.as_ref(), Some(&drift));
}

#[test]
fn frame_scores_match_predict_and_flag_bad_rows() {
    let csv = synth_csv(5_000, 6);
    let frame = read(&csv);
    let model = model_for(&frame, false);
    let expected = reference(&model, &frame);
    let scorer =
        BatchScorer::from_model(model, BatchConfig::new().chunk_rows(300)).expect("scorer");
    let got = scorer.score_frame(&frame).expect("scored");
    assert_eq!(got.scores, expected);
    assert!(got.rejected.is_empty());
    assert_eq!(got.summary.rows, 5_000);
}

#[test]
fn chunk_memory_stays_bounded() {
    // ~4.7 MB of input; at most 4 chunks of 500 rows (~50 KB each) may be
    // alive, plus their output.
    let csv = synth_csv(20_000, 7);
    let model = model_for(&read(&synth_csv(500, 8)), false);
    let scorer = BatchScorer::from_model(
        model,
        BatchConfig::new()
            .chunk_rows(500)
            .in_flight(4)
            .threads(2)
            .max_reject_ratio(1.0),
    )
    .expect("scorer");
    let r = run(&scorer, &csv);
    let s = r.summary.expect("scored");
    assert_eq!(s.rows, 20_000);
    let per_chunk = csv.len() as u64 / 40;
    assert!(s.peak_buffered_bytes > 0);
    assert!(
        s.peak_buffered_bytes <= 4 * per_chunk * 2,
        "peak {} for chunks of ~{per_chunk} bytes",
        s.peak_buffered_bytes
    );
}

#[test]
fn config_is_validated() {
    let csv = synth_csv(20, 9);
    let model = model_for(&read(&csv), false);
    for bad in [
        BatchConfig::new().chunk_rows(0),
        BatchConfig::new().in_flight(0),
        BatchConfig::new().max_reject_ratio(1.5),
        BatchConfig::new().max_reject_ratio(f64::NAN),
        BatchConfig::new().threads(0),
        BatchConfig::new().delimiter(b'"'),
    ] {
        assert!(matches!(
            BatchScorer::from_model(model.clone(), bad),
            Err(Error::InvalidConfig { .. })
        ));
    }
}

/// A forest scores records in blocks, tree by tree; every score must equal
/// the one-record path bit for bit, in input order, with rejected lines
/// (inside and across blocks) taken out.
#[test]
fn forest_block_scores_equal_one_record_scores() {
    use mlops_train::learner::{FittedModel, ForestParams, Learner};

    let train = read(&synth_csv(1_500, 9));
    let spec = FeatureSpec::infer(&train, "Churn", Some("Yes")).expect("spec");
    let fitted = spec.fit(&train).expect("fit");
    let (x, y) = (
        fitted.transform(&train).expect("x"),
        fitted.target(&train).expect("y"),
    );
    let forest = ForestParams::new()
        .n_trees(15)
        .check()
        .expect("params")
        .fit(&x, &y, Seed(3))
        .expect("fit")
        .to_inference()
        .expect("inference");
    let model = Model::new(fitted, forest, Some(0.5), None).expect("model");

    let text = String::from_utf8(synth_csv(1_300, 10)).expect("utf8");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let tenure = lines[0]
        .split(',')
        .position(|h| h == "tenure")
        .expect("tenure");
    // Data rows 3, 511, 512 and 1,100 (0-based) become unparseable.
    let bad = [3usize, 511, 512, 1_100];
    for &row in &bad {
        let mut f: Vec<String> = lines[row + 1].split(',').map(str::to_owned).collect();
        f[tenure] = "many".into();
        lines[row + 1] = f.join(",");
    }
    let csv = format!("{}\n", lines.join("\n"));
    let good: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || !bad.contains(&(i - 1)))
        .map(|(_, l)| l.clone())
        .collect();
    let frame = read(format!("{}\n", good.join("\n")).as_bytes());
    let xs = model.features().transform(&frame).expect("transform");
    let one: Vec<f64> = xs
        .rows()
        .into_iter()
        .map(|r| {
            model
                .inference()
                .predict_proba_row(&r.to_vec())
                .expect("row")
        })
        .collect();
    assert_eq!(one.len(), 1_296);

    for (chunk_rows, threads) in [(700, 2), (1, 1), (10_000, 1)] {
        let scorer = BatchScorer::from_model(
            model.clone(),
            BatchConfig::new()
                .chunk_rows(chunk_rows)
                .threads(threads)
                .max_reject_ratio(1.0),
        )
        .expect("scorer");
        let r = run(&scorer, csv.as_bytes());
        assert_eq!(r.summary.expect("scored").rejected, 4);
        let scores: Vec<f64> = r
            .out
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().expect("score").parse().expect("f64"))
            .collect();
        // `{}` prints the shortest string that parses back to the same f64.
        let same = scores
            .iter()
            .zip(&one)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same && scores.len() == one.len(), "chunk_rows={chunk_rows}");
        let framed = scorer.score_frame(&frame).expect("frame");
        assert!(
            framed
                .scores
                .iter()
                .zip(&one)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
    let predicted = model.inference().predict(&xs).expect("predict");
    assert!(
        predicted
            .iter()
            .zip(&one)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

/// Scoring the Telco rows from Parquet gives the CSV path's scores, bit
/// for bit, the same ids and labels, and the same drift report.
#[cfg(feature = "parquet")]
#[test]
fn parquet_scores_equal_csv_scores_bit_for_bit() {
    let telco = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/data/telco_churn.csv"
    );
    let frame = Frame::read_csv(telco).expect("telco");
    let model = model_for(&frame, true);
    let dir = tempfile::tempdir().expect("dir");
    let input = dir.path().join("telco.parquet");
    frame.write_parquet_path(&input).expect("parquet");
    let scorer = BatchScorer::from_model(
        model,
        BatchConfig::new()
            .chunk_rows(500)
            .threads(2)
            .id_column("customerID"),
    )
    .expect("scorer");
    let csv_out = dir.path().join("csv_scores.csv");
    let csv_summary = scorer
        .score_csv_path(telco.as_ref(), &csv_out, None)
        .expect("csv");
    for out_name in ["scores.parquet", "scores.csv"] {
        let out = dir.path().join(out_name);
        let summary = scorer
            .score_parquet_path(&input, &out, None)
            .expect("parquet job");
        assert_eq!(summary.rows, 7043);
        assert_eq!(summary.drift, csv_summary.drift);
        let got = mlops_core::data::read_table(&out, None, &CsvReader::new()).expect("read");
        let want = Frame::read_csv(&csv_out).expect("csv scores");
        assert_eq!(got.names(), ["customerID", "score", "label"]);
        let bits = |f: &Frame| {
            f.numeric("score")
                .expect("score")
                .raw()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&got), bits(&want), "{out_name}");
        assert_eq!(
            got.column("customerID").ok(),
            want.column("customerID").ok()
        );
        assert_eq!(got.column("label").ok(), want.column("label").ok());
    }
}

/// A Parquet row that cannot be scored goes to the rejects file with its
/// 0-based row number; the other rows are scored.
#[cfg(feature = "parquet")]
#[test]
fn parquet_rejects_keep_row_numbers() {
    let csv = synth_csv(2_000, 3);
    let train = read(&csv);
    let model = model_for(&train, false);
    // Row 1234 gets an infinite tenure, which the features refuse.
    let mut tenure: Vec<Option<f64>> = train.numeric("tenure").expect("tenure").iter().collect();
    tenure[1234] = Some(f64::INFINITY);
    let mut cols = train.clone().into_columns();
    for (name, col) in &mut cols {
        if name == "tenure" {
            *col = mlops_core::data::Column::Numeric(
                mlops_core::data::NumericColumn::from_options(tenure.clone()),
            );
        }
    }
    let bad = Frame::new(cols).expect("frame");
    let dir = tempfile::tempdir().expect("dir");
    let input = dir.path().join("in.parquet");
    bad.write_parquet_path(&input).expect("write");
    let scorer = BatchScorer::from_model(
        model,
        BatchConfig::new()
            .chunk_rows(300)
            .threads(2)
            .max_reject_ratio(0.01)
            .id_column("customerID"),
    )
    .expect("scorer");
    let out = dir.path().join("out.parquet");
    let rej = dir.path().join("rejects.parquet");
    let summary = scorer
        .score_parquet_path(&input, &out, Some(&rej))
        .expect("job");
    assert_eq!((summary.rows, summary.rejected), (2_000, 1));
    let rejects = Frame::read_parquet(&rej).expect("rejects");
    assert_eq!(rejects.numeric("row").expect("row").get(0), Some(1234.0));
    assert_eq!(
        rejects.categorical("column").expect("column").get(0),
        Some("tenure")
    );
    assert_eq!(
        rejects.categorical("customerID").expect("id").get(0),
        train.categorical("customerID").expect("id").get(1234)
    );
    assert_eq!(Frame::read_parquet(&out).expect("out").n_rows(), 1_999);
}
