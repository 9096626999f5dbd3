//! Stable content digests (BLAKE3, 32 bytes) of frames, feature specs,
//! fitted features and raw bytes.
//!
//! Each structured kind hashes in BLAKE3's key-derivation mode with its own
//! context string, so digests of different kinds never collide by
//! construction; [`bytes`] is the plain BLAKE3 hash (what `b3sum` prints).
//! The encodings are part of the format: golden-value tests pin them, and a
//! change needs a new context string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::data::{Column, Frame, MISSING_CODE};
use crate::error::{Error, Result};
use crate::features::{FeatureSpec, FittedFeatures};

const FRAME_CONTEXT: &str = "mlops-core 2026 frame fingerprint v1";
const SPEC_CONTEXT: &str = "mlops-core 2026 feature spec fingerprint v1";
const FITTED_CONTEXT: &str = "mlops-core 2026 fitted features fingerprint v1";

/// The one bit pattern hashed for a missing numeric cell (NaN is how a
/// frame stores missing, whatever its payload).
const MISSING_BITS: u64 = 0x7ff8_0000_0000_0000;

/// A 32-byte BLAKE3 digest. Displays, parses and serializes as 64
/// lower-case hex characters.
///
/// ```
/// use mlops_core::fingerprint::{self, Digest};
///
/// let d = fingerprint::bytes(b"hello");
/// let hex = d.to_string();
/// assert_eq!(hex.len(), 64);
/// assert_eq!(hex.parse::<Digest>()?, d);
/// assert_eq!(format!("{d:.12}"), hex[..12]);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<blake3::Hash> for Digest {
    fn from(h: blake3::Hash) -> Self {
        Self(*h.as_bytes())
    }
}

/// Lower-case hex; a precision abbreviates it like a short git hash
/// (`format!("{d:.16}")` is the first 16 hex digits).
impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width and precision.
        f.pad(blake3::Hash::from_bytes(self.0).to_hex().as_str())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Parse {
            what: "digest".into(),
            reason: reason.into(),
        };
        if s.len() != 64 {
            return Err(bad("a digest is 64 hex characters"));
        }
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad("a digest is written in lower-case hex"));
        }
        blake3::Hash::from_hex(s)
            .map(Digest::from)
            .map_err(|_| bad("a digest is 64 hex characters"))
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(blake3::Hash::from_bytes(self.0).to_hex().as_str())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The plain BLAKE3 hash of a byte string (model payloads, artifacts).
pub fn bytes(data: &[u8]) -> Digest {
    blake3::hash(data).into()
}

/// Feeds the hasher through a buffer: cells are a few bytes each.
struct Buffered {
    hasher: blake3::Hasher,
    buf: Vec<u8>,
}

impl Buffered {
    const FLUSH_AT: usize = 64 * 1024;

    fn new(context: &str) -> Self {
        Self {
            hasher: blake3::Hasher::new_derive_key(context),
            buf: Vec::with_capacity(Self::FLUSH_AT + 1024),
        }
    }

    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= Self::FLUSH_AT {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
    }

    fn put_len(&mut self, n: usize) {
        self.put(&(n as u64).to_le_bytes());
    }

    fn finish(mut self) -> Digest {
        self.hasher.update(&self.buf);
        self.hasher.finalize().into()
    }
}

/// The digest of a frame's schema and content.
///
/// Encoding: column count and row count, then column by column: the name
/// (length-prefixed UTF-8), a type byte, and every cell. A numeric cell is
/// its `f64` bit pattern (little-endian), with one canonical pattern for
/// missing; a categorical cell is `0` when missing, else `1`, the length and
/// the UTF-8 bytes of the string. Strings, not dictionary codes, are hashed,
/// so the digest does not depend on dictionary order, and so not on how the
/// rows were chunked while reading.
pub fn frame(frame: &Frame) -> Digest {
    let mut h = Buffered::new(FRAME_CONTEXT);
    h.put_len(frame.n_cols());
    h.put_len(frame.n_rows());
    for (name, column) in frame.columns() {
        h.put_len(name.len());
        h.put(name.as_bytes());
        match column {
            Column::Numeric(c) => {
                h.put(&[0]);
                for &v in c.raw() {
                    let bits = if v.is_nan() {
                        MISSING_BITS
                    } else {
                        v.to_bits()
                    };
                    h.put(&bits.to_le_bytes());
                }
            }
            Column::Categorical(c) => {
                h.put(&[1]);
                // Each dictionary entry's encoding, built once.
                let encoded: Vec<Vec<u8>> = c
                    .dictionary()
                    .iter()
                    .map(|s| {
                        let mut e = Vec::with_capacity(9 + s.len());
                        e.push(1);
                        e.extend_from_slice(&(s.len() as u64).to_le_bytes());
                        e.extend_from_slice(s.as_bytes());
                        e
                    })
                    .collect();
                for &code in c.codes() {
                    match encoded.get(code as usize) {
                        Some(e) if code != MISSING_CODE => h.put(e),
                        _ => h.put(&[0]),
                    }
                }
            }
        }
    }
    h.finish()
}

fn json_digest<T: Serialize>(context: &str, value: &T) -> Digest {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    // Serializing these types into a hasher cannot fail: no maps with
    // non-string keys, no custom errors, and the writer never errors.
    if let Err(e) = serde_json::to_writer(&mut hasher, value) {
        tracing::error!(error = %e, "fingerprint serialization failed");
    }
    hasher.finalize().into()
}

/// The digest of a feature spec (its canonical JSON form).
pub fn spec(spec: &FeatureSpec) -> Digest {
    json_digest(SPEC_CONTEXT, spec)
}

/// The digest of fitted features: the spec, the input schema and every
/// learned statistic (their canonical JSON form).
pub fn fitted(fitted: &FittedFeatures) -> Digest {
    json_digest(FITTED_CONTEXT, fitted)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::data::{CategoricalColumn, CsvReader, NumericColumn};
    use crate::features::{CategoricalFeature, NumericFeature};

    fn small() -> Frame {
        Frame::new(vec![
            (
                "x".into(),
                Column::Numeric(NumericColumn::from_options([Some(1.5), None, Some(-0.0)])),
            ),
            (
                "c".into(),
                Column::Categorical(CategoricalColumn::from_options([
                    Some("a"),
                    None,
                    Some("héllo"),
                ])),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn golden_frame_digest() {
        // Pinned: a change here changes every recorded dataset digest. The
        // value was computed independently by
        // scripts/fixtures/fingerprint_reference.py.
        assert_eq!(
            frame(&small()).to_string(),
            "e8958b99686afb0ff33cd3845898b9879884a63d5f4cbad8782a99b528c8dfa2"
        );
    }

    #[test]
    fn digest_hex_and_serde() {
        let d = bytes(b"abc");
        // BLAKE3("abc"), the published test value.
        assert_eq!(
            d.to_string(),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
        let packed = rmp_serde::to_vec(&d).unwrap();
        assert_eq!(rmp_serde::from_slice::<Digest>(&packed).unwrap(), d);
        assert!("xyz".parse::<Digest>().is_err());
        assert!(d.to_string().to_uppercase().parse::<Digest>().is_err());
        assert!(format!("{d}").replace('6', "g").parse::<Digest>().is_err());
    }

    #[test]
    fn kinds_are_domain_separated() {
        let spec = FeatureSpec::new().numeric(NumericFeature::new("x"));
        let json = serde_json::to_vec(&spec).unwrap();
        assert_ne!(super::spec(&spec), bytes(&json));
    }

    #[test]
    fn missing_is_canonical_and_dictionary_order_is_irrelevant() {
        let a = Frame::new(vec![(
            "x".into(),
            Column::Numeric(NumericColumn::from_raw(vec![f64::NAN, 1.0])),
        )])
        .unwrap();
        let b = Frame::new(vec![(
            "x".into(),
            Column::Numeric(NumericColumn::from_raw(vec![-f64::NAN, 1.0])),
        )])
        .unwrap();
        assert_eq!(frame(&a), frame(&b));
        // Same cells, dictionaries in a different order.
        let c1 = Frame::new(vec![(
            "c".into(),
            Column::Categorical(CategoricalColumn::from_options([Some("p"), Some("q")])),
        )])
        .unwrap();
        let tail = c1.take(&[1]).unwrap();
        let head = c1.take(&[0]).unwrap();
        let c2 = tail.vstack(&head).unwrap().take(&[1, 0]).unwrap();
        assert_eq!(frame(&c1), frame(&c2));
    }

    #[test]
    fn schema_is_part_of_the_digest() {
        let f = small();
        let renamed = Frame::new(
            f.columns()
                .map(|(n, c)| (format!("{n}_"), c.clone()))
                .collect(),
        )
        .unwrap();
        assert_ne!(frame(&f), frame(&renamed));
        let reordered = f.select(&["c", "x"]).unwrap();
        assert_ne!(frame(&f), frame(&reordered));
        // A numeric "1" and a categorical "1" differ.
        let n = Frame::new(vec![(
            "v".into(),
            Column::Numeric(NumericColumn::from_options([Some(1.0)])),
        )])
        .unwrap();
        let t = Frame::new(vec![(
            "v".into(),
            Column::Categorical(CategoricalColumn::from_options([Some("1")])),
        )])
        .unwrap();
        assert_ne!(frame(&n), frame(&t));
    }

    #[test]
    fn spec_and_fitted_digests_track_content() {
        let spec = FeatureSpec::new()
            .numeric(NumericFeature::new("x"))
            .categorical(CategoricalFeature::new("c"));
        let other = spec.clone().categorical(CategoricalFeature::new("z"));
        assert_eq!(super::spec(&spec), super::spec(&spec.clone()));
        assert_ne!(super::spec(&spec), super::spec(&other));
        let f = small();
        let a = spec.fit(&f).unwrap();
        let b = spec.fit(&f.take(&[0, 2]).unwrap()).unwrap();
        assert_eq!(fitted(&a), fitted(&spec.fit(&f).unwrap()));
        assert_ne!(fitted(&a), fitted(&b));
        // Survives a serde round trip.
        let packed = rmp_serde::to_vec(&a).unwrap();
        let back: FittedFeatures = rmp_serde::from_slice(&packed).unwrap();
        assert_eq!(fitted(&a), fitted(&back));
    }

    /// A random frame: numeric and categorical columns with missing cells.
    fn arb_frame() -> impl Strategy<Value = Frame> {
        (1usize..20, 1usize..4, 0usize..3).prop_flat_map(|(rows, n_num, n_cat)| {
            (
                proptest::collection::vec(
                    proptest::collection::vec(proptest::option::weighted(0.8, -1e6f64..1e6), rows),
                    n_num,
                ),
                proptest::collection::vec(
                    proptest::collection::vec(proptest::option::weighted(0.8, "[a-d]{0,2}"), rows),
                    n_cat,
                ),
            )
                .prop_map(|(nums, cats)| {
                    let mut cols: Vec<(String, Column)> = Vec::new();
                    for (i, v) in nums.into_iter().enumerate() {
                        cols.push((
                            format!("n{i}"),
                            Column::Numeric(NumericColumn::from_options(v)),
                        ));
                    }
                    for (i, v) in cats.into_iter().enumerate() {
                        cols.push((
                            format!("c{i}"),
                            Column::Categorical(CategoricalColumn::from_options(v)),
                        ));
                    }
                    Frame::new(cols).unwrap()
                })
        })
    }

    /// The frame with cell (row, col) replaced by a different value.
    fn change_cell(f: &Frame, row: usize, col: usize, seed: u8) -> Frame {
        let cols = f
            .columns()
            .enumerate()
            .map(|(j, (name, c))| {
                let c = if j != col {
                    c.clone()
                } else {
                    match c {
                        Column::Numeric(n) => {
                            let mut v: Vec<Option<f64>> = n.iter().collect();
                            v[row] = match (v[row], seed % 3) {
                                (None, _) => Some(f64::from(seed)),
                                (Some(_), 0) => None,
                                (Some(x), _) => Some(x + 1.0 + f64::from(seed)),
                            };
                            Column::Numeric(NumericColumn::from_options(v))
                        }
                        Column::Categorical(k) => {
                            let mut v: Vec<Option<String>> =
                                k.iter().map(|s| s.map(str::to_owned)).collect();
                            v[row] = match (&v[row], seed % 3) {
                                (None, _) => Some(String::new()),
                                (Some(_), 0) => None,
                                (Some(s), _) => Some(format!("{s}x")),
                            };
                            Column::Categorical(CategoricalColumn::from_options(v))
                        }
                    }
                };
                (name.to_owned(), c)
            })
            .collect();
        Frame::new(cols).unwrap()
    }

    fn to_csv(f: &Frame) -> String {
        let mut out = f.names().join(",");
        out.push('\n');
        for r in 0..f.n_rows() {
            let cells: Vec<String> = (0..f.n_cols())
                .map(|c| match f.value(r, c) {
                    crate::data::Value::Number(x) => format!("{x}"),
                    crate::data::Value::Text(s) => format!("s{s}"),
                    crate::data::Value::Missing => "NA".to_owned(),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    proptest! {
        #[test]
        fn any_single_cell_change_changes_the_digest(
            f in arb_frame(), row in any::<prop::sample::Index>(),
            col in any::<prop::sample::Index>(), seed in any::<u8>(),
        ) {
            let (r, c) = (row.index(f.n_rows()), col.index(f.n_cols()));
            let changed = change_cell(&f, r, c, seed);
            prop_assert_ne!(frame(&f), frame(&changed));
        }

        #[test]
        fn chunked_read_gives_the_same_digest(f in arb_frame(), chunk in 1usize..7) {
            let csv = to_csv(&f);
            let reader = CsvReader::new()
                .schema(f.schema().fields.into_iter().map(|fl| (fl.name, fl.column_type)));
            let whole = reader.read(csv.as_bytes(), "t.csv").unwrap().frame;
            let mut chunks = reader.chunks(csv.as_bytes(), "t.csv", chunk).unwrap();
            let mut stacked: Option<Frame> = None;
            while let Some(part) = chunks.next_chunk().unwrap() {
                stacked = Some(match stacked {
                    None => part.frame,
                    Some(s) => s.vstack(&part.frame).unwrap(),
                });
            }
            let stacked = stacked.unwrap();
            prop_assert_eq!(whole.n_rows(), f.n_rows());
            prop_assert_eq!(frame(&whole), frame(&stacked));
        }
    }
}
