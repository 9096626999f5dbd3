//! CSV reading on the real Telco file and on malformed inputs.

use mlops_core::Error;
use mlops_core::data::{ColumnType, CsvReader, Frame, Value};

const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);

#[test]
fn telco_loads_with_numeric_total_charges() {
    let frame = Frame::read_csv(TELCO).expect("telco reads");
    assert_eq!(frame.n_rows(), 7043);
    assert_eq!(frame.n_cols(), 21);
    let total = frame
        .numeric("TotalCharges")
        .expect("TotalCharges is numeric");
    assert_eq!(total.missing_count(), 11);
    let schema = frame.schema();
    assert_eq!(schema.column_type("tenure"), Some(ColumnType::Numeric));
    assert_eq!(
        schema.column_type("SeniorCitizen"),
        Some(ColumnType::Numeric)
    );
    assert_eq!(schema.column_type("Churn"), Some(ColumnType::Categorical));
    assert_eq!(
        schema.column_type("customerID"),
        Some(ColumnType::Categorical)
    );
    let churn = frame.categorical("Churn").expect("Churn");
    let yes = churn.iter().filter(|v| *v == Some("Yes")).count();
    assert_eq!(yes, 1869);
    // First data row, as in the file.
    assert_eq!(frame.value(0, 0), Value::Text("7590-VHVEG"));
    assert_eq!(
        frame.numeric("MonthlyCharges").expect("num").get(0),
        Some(29.85)
    );
}

#[test]
fn chunked_read_matches_whole_read() {
    let whole = Frame::read_csv(TELCO).expect("whole");
    let mut stacked: Option<Frame> = None;
    let mut chunks = 0;
    for chunk in CsvReader::new().chunks_path(TELCO, 1000).expect("open") {
        let chunk = chunk.expect("chunk");
        assert!(chunk.frame.n_rows() <= 1000);
        chunks += 1;
        stacked = Some(match stacked {
            None => chunk.frame,
            Some(s) => s.vstack(&chunk.frame).expect("same schema"),
        });
    }
    assert_eq!(chunks, 8);
    assert_eq!(stacked.expect("some"), whole);
}

#[test]
fn missing_tokens_become_missing() {
    let csv = "a,b\n1,x\n NA ,null\nNaN,\nnan,y\n5, \n";
    let frame = CsvReader::new()
        .read(csv.as_bytes(), "t.csv")
        .expect("read")
        .frame;
    let a = frame.numeric("a").expect("a numeric");
    assert_eq!(
        a.iter().collect::<Vec<_>>(),
        vec![Some(1.0), None, None, None, Some(5.0)]
    );
    let b = frame.categorical("b").expect("b categorical");
    assert_eq!(
        b.iter().collect::<Vec<_>>(),
        vec![Some("x"), None, None, Some("y"), None]
    );
}

#[test]
fn ragged_row_names_its_line() {
    let csv = "a,b\n1,2\n3\n";
    let err = CsvReader::new()
        .read(csv.as_bytes(), "r.csv")
        .expect_err("ragged");
    assert!(
        matches!(
            err,
            Error::RaggedRow {
                line: 3,
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "r.csv:3: record has 1 fields, the header has 2"
    );
}

#[test]
fn text_in_numeric_column_under_explicit_schema() {
    let csv = "a,b\n1,2\n3,oops\n";
    let err = CsvReader::new()
        .column_type("b", ColumnType::Numeric)
        .read(csv.as_bytes(), "s.csv")
        .expect_err("bad cell");
    assert!(
        matches!(&err, Error::BadCell { line: 3, column, .. } if column == "b"),
        "{err}"
    );
    assert!(err.to_string().starts_with("s.csv:3: column `b`:"), "{err}");
    // Without the override the column is inferred categorical.
    let frame = CsvReader::new()
        .read(csv.as_bytes(), "s.csv")
        .expect("ok")
        .frame;
    assert_eq!(
        frame.schema().column_type("b"),
        Some(ColumnType::Categorical)
    );
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let mut bytes = b"a,b\nx,y\nz,".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.push(b'\n');
    let err = CsvReader::new()
        .read(&bytes[..], "u.csv")
        .expect_err("utf8");
    assert!(
        matches!(&err, Error::BadCell { line: 3, column, .. } if column == "b"),
        "{err}"
    );
}

#[test]
fn late_misfit_after_inference_window_is_reported() {
    let mut csv = String::from("n\n");
    for i in 0..20 {
        csv.push_str(&format!("{i}\n"));
    }
    csv.push_str("text\n");
    let err = CsvReader::new()
        .infer_rows(Some(10))
        .read(csv.as_bytes(), "late.csv")
        .expect_err("late misfit");
    assert!(matches!(err, Error::BadCell { line: 22, .. }), "{err}");
    // Inferring over every row reads it as categorical instead.
    let frame = CsvReader::new()
        .infer_rows(None)
        .read(csv.as_bytes(), "late.csv")
        .expect("all rows inferred")
        .frame;
    assert_eq!(
        frame.schema().column_type("n"),
        Some(ColumnType::Categorical)
    );
}

#[test]
fn lenient_mode_collects_every_bad_row() {
    let csv = "a,b\n1,2\n3\nx,4\n5,6\n";
    let out = CsvReader::new()
        .column_type("a", ColumnType::Numeric)
        .lenient(true)
        .read(csv.as_bytes(), "l.csv")
        .expect("lenient read");
    assert_eq!(out.frame.n_rows(), 2);
    let lines: Vec<u64> = out.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4]);
    assert_eq!(out.rejected[1].column.as_deref(), Some("a"));
    assert_eq!(out.rejected[1].fields, vec!["x", "4"]);
    // Every input row is either in the frame or rejected: none is dropped.
    assert_eq!(out.frame.n_rows() + out.rejected.len(), 4);
}

#[test]
fn header_problems_are_errors() {
    assert!(matches!(
        CsvReader::new().read("".as_bytes(), "e.csv"),
        Err(Error::Csv { line: 1, .. })
    ));
    assert!(matches!(
        CsvReader::new().read("a,a\n1,2\n".as_bytes(), "d.csv"),
        Err(Error::Csv { .. })
    ));
    assert!(matches!(
        CsvReader::new()
            .column_type("zz", ColumnType::Numeric)
            .read("a\n1\n".as_bytes(), "o.csv"),
        Err(Error::ColumnNotFound { .. })
    ));
    let header_only = CsvReader::new()
        .read("a,b\n".as_bytes(), "h.csv")
        .expect("header only");
    assert_eq!(header_only.frame.n_rows(), 0);
    assert_eq!(header_only.frame.n_cols(), 2);
}

#[test]
fn missing_file_is_io_error_with_path() {
    let err = Frame::read_csv("/nonexistent/x.csv").expect_err("no file");
    assert!(err.to_string().starts_with("/nonexistent/x.csv:"), "{err}");
}
