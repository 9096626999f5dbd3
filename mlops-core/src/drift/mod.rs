//! Drift detection: are the inputs, predictions or outcomes a model sees
//! still like the ones it was trained on?
//!
//! - [`compare`]: two [`Frame`](crate::data::Frame)s, full data, with
//!   Evidently's automatic choice of test per column ([`auto_method`]).
//! - [`Profile`]: a bounded, serializable summary of reference data captured
//!   at training time, compared later with [`Profile::compare_frame`].
//! - [`DriftMonitor`]: the streaming, mergeable monitor for the serving path.
//! - [`concept`]: ADWIN, Page-Hinkley and DDM over an error stream.
//!
//! Tests and their peers: [`ks`] (`scipy.stats.ks_2samp`), [`chisquare`]
//! (`scipy.stats.chisquare`), [`ztest`], [`psi`], [`distance`] (Jensen-Shannon,
//! Hellinger, KL, normed Wasserstein), [`binning`] (numpy Sturges edges).
//!
//! Which data each test uses:
//!
//! | test | `compare` (two Frames) | `Profile` vs Frame | `DriftMonitor` window |
//! |---|---|---|---|
//! | KS, Wasserstein | all values | reference: seeded reservoir sample; current: all values | not available (no raw values) |
//! | chi-square, z-test | all counts | category counts (capped, "other" bucket) | counts |
//! | PSI, JS, Hellinger, KL | Evidently bins (Sturges on both sides when > 20 distinct reference values, else categories) | the profile's fixed bins | the profile's fixed bins |
//!
//! ```
//! use mlops_core::data::{Column, Frame, NumericColumn};
//! use mlops_core::drift::{compare, DriftOptions};
//!
//! let col = |v: Vec<f64>| Column::Numeric(NumericColumn::from_raw(v));
//! let reference = Frame::new(vec![("x".into(), col((0..200).map(f64::from).collect()))]).unwrap();
//! let current = Frame::new(vec![("x".into(), col((100..300).map(f64::from).collect()))]).unwrap();
//! let report = compare(&reference, &current, &DriftOptions::default()).unwrap();
//! assert_eq!(report.columns["x"].method.name(), "ks");
//! assert!(report.dataset_drift);
//! ```

pub mod binning;
pub mod chisquare;
mod compare;
pub mod concept;
pub mod correction;
pub mod distance;
pub mod ks;
mod monitor;
mod options;
mod profile;
pub mod psi;
mod report;
mod select;
pub mod ztest;

pub use compare::{Sample, compare, test_samples};
pub use correction::Correction;
pub use monitor::{DriftMonitor, MonitorConfig, Window};
pub use options::DriftOptions;
pub use profile::{CategoricalProfile, ColumnProfile, NumericProfile, Profile, ProfileConfig};
pub use report::{ColumnDrift, DriftReport};
pub use select::{ColumnKind, Method, SMALL_REFERENCE_ROWS, auto_method};
