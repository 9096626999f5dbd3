//! A seeded synthetic churn data set with the schema of the IBM Telco
//! customer churn file, so tests, demos and benchmarks can use any number of
//! rows without committing big files.
//!
//! Every row is drawn from a fixed generative model: contract type, internet
//! service, tenure, add-on services, payment method and charges follow
//! marginals close to the real file, and churn is a logistic function of
//! contract, tenure, fibre internet, electronic-check payment, monthly
//! charges and a few weaker effects, so a logistic regression reaches a
//! ROC AUC in the same region as on the real data. A `shift` knob moves the
//! population (more month-to-month contracts and fibre, higher charges,
//! more churn) for drift and retraining demos.
//!
//! Output is a pure function of the parameters: the same seed, rows and shift
//! give byte-identical CSV on every platform.

use std::io::Write;
use std::path::Path;

use rand::Rng;
use rand_distr::{Exp1, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::data::{CategoricalColumn, Column, Frame, NumericColumn};
use crate::error::{Error, Result};
use crate::seed::{Seed, SeedRng};

/// The 21 column names of the Telco churn file, in file order.
pub const TELCO_COLUMNS: [&str; 21] = [
    "customerID",
    "gender",
    "SeniorCitizen",
    "Partner",
    "Dependents",
    "tenure",
    "PhoneService",
    "MultipleLines",
    "InternetService",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
    "Contract",
    "PaperlessBilling",
    "PaymentMethod",
    "MonthlyCharges",
    "TotalCharges",
    "Churn",
];

/// Positions of the numeric columns in [`TELCO_COLUMNS`].
const NUMERIC: [usize; 4] = [2, 5, 18, 19];

/// Letters per id (`7590-VHVEG`: 4 digits, 5 letters).
const LETTER_SPACE: u64 = 26u64.pow(5);

/// The largest number of rows: one per distinct `customerID`
/// (10^4 x 26^5 = 118,813,760,000).
pub const MAX_ROWS: u64 = 10_000 * LETTER_SPACE;

/// Parameters of the synthetic churn generator (unchecked).
///
/// ```
/// use mlops_core::seed::Seed;
/// use mlops_core::synth::ChurnSynth;
///
/// let mut csv = Vec::new();
/// let rows = ChurnSynth::new(Seed(7)).rows(100).write_csv(&mut csv)?;
/// assert_eq!(rows, 100);
/// let frame = ChurnSynth::new(Seed(7)).rows(100).to_frame()?;
/// assert_eq!((frame.n_rows(), frame.n_cols()), (100, 21));
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChurnSynth {
    seed: Seed,
    rows: u64,
    shift: f64,
}

impl ChurnSynth {
    /// Defaults: 7,043 rows (the size of the real file), no shift.
    pub fn new(seed: Seed) -> Self {
        Self {
            seed,
            rows: 7_043,
            shift: 0.0,
        }
    }

    /// Number of rows to generate, at most [`MAX_ROWS`].
    pub fn rows(mut self, rows: u64) -> Self {
        self.rows = rows;
        self
    }

    /// Population shift in `[0, 1]`: 0 resembles the real file; 1 has many
    /// more month-to-month contracts and fibre customers, about 15% higher
    /// charges and a higher churn rate.
    pub fn shift(mut self, shift: f64) -> Self {
        self.shift = shift;
        self
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<ValidChurnSynth> {
        if !(self.shift.is_finite() && (0.0..=1.0).contains(&self.shift)) {
            return Err(Error::InvalidParameter {
                name: "shift",
                reason: format!("{} is outside [0, 1]", self.shift),
            });
        }
        if self.rows > MAX_ROWS {
            return Err(Error::InvalidParameter {
                name: "rows",
                reason: format!(
                    "{} exceeds {MAX_ROWS}, the number of distinct customer ids",
                    self.rows
                ),
            });
        }
        Ok(ValidChurnSynth { params: *self })
    }

    /// Checks the parameters, then streams the CSV (header + rows) to
    /// `writer`; see [`ValidChurnSynth::write_csv`].
    pub fn write_csv<W: Write>(&self, writer: W) -> Result<u64> {
        self.check()?.write_csv(writer)
    }

    /// Checks the parameters, then writes the CSV to a file; see
    /// [`ValidChurnSynth::write_csv_path`].
    pub fn write_csv_path(&self, path: impl AsRef<Path>) -> Result<u64> {
        self.check()?.write_csv_path(path)
    }

    /// Checks the parameters, then builds the rows in memory; see
    /// [`ValidChurnSynth::to_frame`].
    pub fn to_frame(&self) -> Result<Frame> {
        self.check()?.to_frame()
    }
}

/// Checked parameters of the generator, from [`ChurnSynth::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidChurnSynth {
    params: ChurnSynth,
}

impl ValidChurnSynth {
    /// The root seed.
    pub fn seed(&self) -> Seed {
        self.params.seed
    }

    /// The number of rows.
    pub fn rows(&self) -> u64 {
        self.params.rows
    }

    /// The population shift.
    pub fn shift(&self) -> f64 {
        self.params.shift
    }

    /// Streams the header and all rows as CSV to `writer`, in constant
    /// memory, and returns the number of rows written. `TotalCharges` is a
    /// single space for customers with zero tenure, as in the real file.
    pub fn write_csv<W: Write>(&self, writer: W) -> Result<u64> {
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(writer);
        let write_err = |e: csv::Error| match e.into_kind() {
            csv::ErrorKind::Io(source) => Error::Write {
                target: "synthetic CSV output".into(),
                source,
            },
            other => Error::Write {
                target: "synthetic CSV output".into(),
                source: std::io::Error::other(format!("{other:?}")),
            },
        };
        out.write_record(TELCO_COLUMNS).map_err(write_err)?;
        let mut rows = RowGen::new(self.params);
        let mut number = String::new();
        for _ in 0..self.params.rows {
            let customer = rows.next_customer();
            for field in customer.fields() {
                match field {
                    Field::Text(s) => out.write_field(s),
                    Field::Number(v) => {
                        number.clear();
                        // `Display` prints the shortest text that parses
                        // back to the same f64: 72, 29.85, 1889.5.
                        use std::fmt::Write as _;
                        let _ = write!(number, "{v}");
                        out.write_field(&number)
                    }
                    Field::Missing => out.write_field(" "),
                }
                .map_err(write_err)?;
            }
            out.write_record(None::<&[u8]>).map_err(write_err)?;
        }
        out.flush().map_err(|source| Error::Write {
            target: "synthetic CSV output".into(),
            source,
        })?;
        tracing::debug!(rows = self.params.rows, seed = %self.params.seed, "synthetic churn CSV written");
        Ok(self.params.rows)
    }

    /// Writes the CSV to a file (created or replaced; it appears whole or not
    /// at all, see [`atomic_file`](crate::atomic_file)); errors name the file.
    pub fn write_csv_path(&self, path: impl AsRef<Path>) -> Result<u64> {
        crate::atomic_file::write_with(path.as_ref(), |out| self.write_csv(out))
    }

    /// Builds the rows as a [`Frame`] with the same types and values that
    /// reading [`ValidChurnSynth::write_csv`]'s output back gives. Meant for
    /// small data: memory grows with the number of rows.
    pub fn to_frame(&self) -> Result<Frame> {
        let mut columns: Vec<Column> = (0..TELCO_COLUMNS.len())
            .map(|i| {
                if NUMERIC.contains(&i) {
                    Column::Numeric(NumericColumn::default())
                } else {
                    Column::Categorical(CategoricalColumn::default())
                }
            })
            .collect();
        let mut rows = RowGen::new(self.params);
        for _ in 0..self.params.rows {
            let customer = rows.next_customer();
            for (col, field) in columns.iter_mut().zip(customer.fields()) {
                match (col, field) {
                    (Column::Numeric(c), Field::Number(v)) => c.push(Some(v)),
                    (Column::Numeric(c), _) => c.push(None),
                    (Column::Categorical(c), Field::Text(s)) => c.push(Some(s)),
                    (Column::Categorical(c), _) => c.push(None),
                }
            }
        }
        for col in &mut columns {
            if let Column::Categorical(c) = col {
                c.finish();
            }
        }
        Frame::new(
            TELCO_COLUMNS
                .iter()
                .map(|s| (*s).to_owned())
                .zip(columns)
                .collect(),
        )
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Contract {
    MonthToMonth,
    OneYear,
    TwoYear,
}

#[derive(Clone, Copy, PartialEq)]
enum Internet {
    Dsl,
    Fiber,
    No,
}

const PAYMENT: [&str; 4] = [
    "Electronic check",
    "Mailed check",
    "Bank transfer (automatic)",
    "Credit card (automatic)",
];

/// One generated customer.
struct Customer {
    id: [u8; 10],
    male: bool,
    senior: bool,
    partner: bool,
    dependents: bool,
    tenure: u32,
    phone: bool,
    multiple_lines: bool,
    internet: Internet,
    /// OnlineSecurity, OnlineBackup, DeviceProtection, TechSupport,
    /// StreamingTV, StreamingMovies.
    addons: [bool; 6],
    contract: Contract,
    paperless: bool,
    payment: usize,
    monthly_cents: u64,
    total_cents: Option<u64>,
    churn: bool,
}

enum Field<'a> {
    Text(&'a str),
    Number(f64),
    Missing,
}

fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

impl Customer {
    /// The 21 cells in [`TELCO_COLUMNS`] order.
    fn fields(&self) -> [Field<'_>; 21] {
        let addon = |i: usize| {
            Field::Text(if self.internet == Internet::No {
                "No internet service"
            } else {
                yes_no(self.addons[i])
            })
        };
        [
            // The id is ASCII by construction.
            Field::Text(std::str::from_utf8(&self.id).unwrap_or("0000-AAAAA")),
            Field::Text(if self.male { "Male" } else { "Female" }),
            Field::Number(if self.senior { 1.0 } else { 0.0 }),
            Field::Text(yes_no(self.partner)),
            Field::Text(yes_no(self.dependents)),
            Field::Number(f64::from(self.tenure)),
            Field::Text(yes_no(self.phone)),
            Field::Text(if self.phone {
                yes_no(self.multiple_lines)
            } else {
                "No phone service"
            }),
            Field::Text(match self.internet {
                Internet::Dsl => "DSL",
                Internet::Fiber => "Fiber optic",
                Internet::No => "No",
            }),
            addon(0),
            addon(1),
            addon(2),
            addon(3),
            addon(4),
            addon(5),
            Field::Text(match self.contract {
                Contract::MonthToMonth => "Month-to-month",
                Contract::OneYear => "One year",
                Contract::TwoYear => "Two year",
            }),
            Field::Text(yes_no(self.paperless)),
            Field::Text(PAYMENT[self.payment]),
            // Exact cents / 100 is the f64 nearest the decimal text.
            Field::Number(self.monthly_cents as f64 / 100.0),
            self.total_cents
                .map_or(Field::Missing, |c| Field::Number(c as f64 / 100.0)),
            Field::Text(yes_no(self.churn)),
        ]
    }
}

/// Draws customers one by one from a single seeded stream.
struct RowGen {
    rng: SeedRng,
    shift: f64,
    id_mult: u64,
    id_offset: u64,
    index: u64,
}

impl RowGen {
    fn new(params: ChurnSynth) -> Self {
        // Ids are an affine bijection of the row index modulo MAX_ROWS, so
        // they are unique without remembering the ones already used.
        let mut id_rng = params.seed.derive("synth.customer-id").rng();
        let id_mult = loop {
            let m = id_rng.gen_range(1..MAX_ROWS);
            // MAX_ROWS = 2^9 5^4 13^5: a multiplier prime to it is a bijection.
            if m % 2 != 0 && m % 5 != 0 && m % 13 != 0 {
                break m;
            }
        };
        let id_offset = id_rng.gen_range(0..MAX_ROWS);
        Self {
            rng: params.seed.derive("synth.rows").rng(),
            shift: params.shift,
            id_mult,
            id_offset,
            index: 0,
        }
    }

    fn customer_id(&self, index: u64) -> [u8; 10] {
        let v = ((u128::from(index) * u128::from(self.id_mult) + u128::from(self.id_offset))
            % u128::from(MAX_ROWS)) as u64;
        let (mut digits, mut letters) = (v / LETTER_SPACE, v % LETTER_SPACE);
        let mut id = *b"0000-AAAAA";
        for slot in id[..4].iter_mut().rev() {
            *slot = b'0' + (digits % 10) as u8;
            digits /= 10;
        }
        for slot in id[5..].iter_mut().rev() {
            *slot = b'A' + (letters % 26) as u8;
            letters /= 26;
        }
        id
    }

    fn bern(&mut self, p: f64) -> bool {
        self.rng.r#gen::<f64>() < p
    }

    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        mean + sd * self.rng.sample::<f64, _>(StandardNormal)
    }

    fn choose(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.rng.r#gen::<f64>() * total;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        weights.len() - 1
    }

    fn next_customer(&mut self) -> Customer {
        let s = self.shift;
        let id = self.customer_id(self.index);
        self.index += 1;

        let male = self.bern(0.5);
        let senior = self.bern(0.162);
        let partner = self.bern(0.483);
        let dependents = self.bern(if partner { 0.52 } else { 0.09 });

        let m2m = 0.55 + 0.25 * s;
        let contract = match self.choose(&[m2m, (1.0 - m2m) * 0.47, (1.0 - m2m) * 0.53]) {
            0 => Contract::MonthToMonth,
            1 => Contract::OneYear,
            _ => Contract::TwoYear,
        };
        let tenure = if self.bern(0.0016) {
            0 // signed up this month: no total charges yet
        } else {
            let t = match contract {
                Contract::MonthToMonth => 1.0 + 17.0 * self.rng.sample::<f64, _>(Exp1),
                Contract::OneYear => self.normal(42.0, 17.0),
                Contract::TwoYear => self.normal(57.0, 14.0),
            };
            t.round().clamp(1.0, 72.0) as u32
        };

        let fiber = 0.44 + 0.2 * s;
        let internet = match self.choose(&[(1.0 - fiber) * 0.61, fiber, (1.0 - fiber) * 0.39]) {
            0 => Internet::Dsl,
            1 => Internet::Fiber,
            _ => Internet::No,
        };
        // Every customer has phone or internet service.
        let phone = internet == Internet::No || self.bern(0.88);
        let multiple_lines = phone && self.bern(0.47);
        let mut addons = [false; 6];
        if internet != Internet::No {
            let dsl = internet == Internet::Dsl;
            let p = [
                if dsl { 0.52 } else { 0.30 }, // OnlineSecurity
                if dsl { 0.45 } else { 0.42 }, // OnlineBackup
                if dsl { 0.42 } else { 0.45 }, // DeviceProtection
                if dsl { 0.50 } else { 0.30 }, // TechSupport
                if dsl { 0.33 } else { 0.60 }, // StreamingTV
                if dsl { 0.33 } else { 0.61 }, // StreamingMovies
            ];
            for (a, p) in addons.iter_mut().zip(p) {
                *a = self.bern(p);
            }
        }
        let paperless = self.bern(match internet {
            Internet::Fiber => 0.78,
            Internet::Dsl => 0.54,
            Internet::No => 0.29,
        });
        let payment = if contract == Contract::MonthToMonth {
            self.choose(&[0.50, 0.21, 0.14, 0.15])
        } else {
            self.choose(&[0.14, 0.25, 0.31, 0.30])
        };

        let mut monthly = 0.0;
        if phone {
            monthly += 20.0 + if multiple_lines { 5.0 } else { 0.0 };
        }
        monthly += match internet {
            Internet::Dsl => 25.0,
            Internet::Fiber => 50.0,
            Internet::No => 0.0,
        };
        for (i, &a) in addons.iter().enumerate() {
            if a {
                monthly += if i >= 4 { 10.0 } else { 5.0 };
            }
        }
        monthly = (self.normal(monthly, 1.5) * (1.0 + 0.15 * s)).clamp(18.25, 118.75);
        // Tariffs are priced in steps of 5 cents.
        let monthly_cents = ((monthly * 20.0).round() as u64) * 5;

        let total_cents = match tenure {
            0 => None,
            1 => Some(monthly_cents),
            t => {
                // Past months were billed at drifting prices.
                let factor = self.normal(1.0, 0.05).max(0.5);
                Some((f64::from(t) * monthly_cents as f64 * factor).round() as u64)
            }
        };

        let mut z = -0.15 + 0.9 * s;
        z += match contract {
            Contract::MonthToMonth => 0.0,
            Contract::OneYear => -1.4,
            Contract::TwoYear => -2.8,
        };
        z -= 0.035 * f64::from(tenure);
        z += match internet {
            Internet::Fiber => 0.8,
            Internet::Dsl => 0.0,
            Internet::No => -0.7,
        };
        if internet != Internet::No {
            z += if addons[0] { -0.35 } else { 0.0 } + if addons[3] { -0.35 } else { 0.0 };
        }
        z += if payment == 0 { 0.6 } else { 0.0 };
        z += 0.012 * (monthly_cents as f64 / 100.0 - 65.0);
        z += if paperless { 0.3 } else { 0.0 };
        z += if senior { 0.3 } else { 0.0 };
        z -= if dependents { 0.2 } else { 0.0 };
        let churn = self.bern(1.0 / (1.0 + (-z).exp()));

        Customer {
            id,
            male,
            senior,
            partner,
            dependents,
            tenure,
            phone,
            multiple_lines,
            internet,
            addons,
            contract,
            paperless,
            payment,
            monthly_cents,
            total_cents,
            churn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_validated() {
        for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            let err = ChurnSynth::new(Seed(1)).shift(bad).check().unwrap_err();
            assert!(
                matches!(err, Error::InvalidParameter { name: "shift", .. }),
                "{bad}"
            );
        }
        let err = ChurnSynth::new(Seed(1))
            .rows(MAX_ROWS + 1)
            .check()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { name: "rows", .. }));
        let ok = ChurnSynth::new(Seed(1))
            .rows(10)
            .shift(1.0)
            .check()
            .unwrap();
        assert_eq!((ok.rows(), ok.shift(), ok.seed()), (10, 1.0, Seed(1)));
    }

    #[test]
    fn customer_ids_are_a_bijection_of_the_index() {
        let g = RowGen::new(ChurnSynth::new(Seed(3)));
        let mut seen = std::collections::HashSet::new();
        for i in 0..20_000 {
            let id = g.customer_id(i);
            assert!(id[..4].iter().all(u8::is_ascii_digit) && id[4] == b'-');
            assert!(id[5..].iter().all(u8::is_ascii_uppercase));
            assert!(seen.insert(id), "duplicate id at row {i}");
        }
        // The last index maps inside the id space too.
        assert_eq!(g.customer_id(MAX_ROWS - 1).len(), 10);
    }

    #[test]
    fn zero_rows_gives_header_only() {
        let mut out = Vec::new();
        ChurnSynth::new(Seed(1))
            .rows(0)
            .write_csv(&mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            TELCO_COLUMNS.join(",") + "\n"
        );
    }
}
