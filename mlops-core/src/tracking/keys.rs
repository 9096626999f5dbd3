//! The key layout of tracking data in the store.
//!
//! Run ids are 32 lowercase hex
//! bytes, so a run id at the front of a key needs no delimiter. Free-form
//! strings inside keys (metric names, param values) go through [`push_str`],
//! an order-preserving escape (`0x00` becomes `0x00 0xFF`, the string ends
//! with `0x00 0x01`), so a prefix scan for one string never matches a longer
//! one and keys sort the way their strings sort.
//!
//! All keys live in the one tree [`TREE`] (`tracking`); the first byte
//! names the key space:
//!
//! ```text
//! space  key (after the space byte)              value
//! x      experiment name                         Experiment record
//! r      run_id                                  RunSummary (compact)
//! m      run_id ‖ esc(key) ‖ chunk_no u32 BE      chunk of metric points
//! d      run_id ‖ esc(dataset name)              DatasetInput
//! v      run_id                                  Environment
//! a      run_id ‖ esc(artifact name)             ArtifactRef
//! b      BLAKE3 digest (32 bytes)                raw artifact bytes
//! i      see `index.rs`                          empty
//! ```

/// The one store tree holding all tracking data. One tree, not one per
/// record kind, so that a run's summary, index entries and metric chunks go
/// into one single-tree batch: on sled that is a plain atomic batch instead
/// of a multi-tree transaction, several times cheaper per write.
pub(crate) const TREE: &str = "tracking";

/// A key space inside [`TREE`]: the first byte of every key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Space(pub(crate) u8);

impl Space {
    /// `space byte ‖ rest`.
    pub(crate) fn key(self, rest: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(1 + rest.len());
        k.push(self.0);
        k.extend_from_slice(rest);
        k
    }
}

/// Experiments by name.
pub(crate) const EXPERIMENTS: Space = Space(b'x');
/// Compact run summaries by run id.
pub(crate) const RUNS: Space = Space(b'r');
/// Metric history chunks.
pub(crate) const METRICS: Space = Space(b'm');
/// Dataset inputs.
pub(crate) const INPUTS: Space = Space(b'd');
/// Captured environments.
pub(crate) const ENVIRONMENT: Space = Space(b'v');
/// Artifact references (name to digest).
pub(crate) const ARTIFACTS: Space = Space(b'a');
/// Content-addressed artifact bytes.
pub(crate) const BLOBS: Space = Space(b'b');
/// Secondary indexes.
pub(crate) const INDEX: Space = Space(b'i');

/// Length of a run id in hex characters.
pub(crate) const RUN_ID_LEN: usize = 32;

/// Appends `s` with the order-preserving escape described in the module docs.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

/// Appends a f64 so that byte order equals numeric order, with the
/// filter module's encoding (so its range bounds apply to index keys). NaN
/// is never stored: metric values are checked finite before they get here.
pub(crate) fn push_f64(out: &mut Vec<u8>, v: f64) {
    // -0.0 and 0.0 are equal numbers, so they get one encoding.
    let v = if v == 0.0 { 0.0 } else { v };
    out.extend_from_slice(&crate::filter::encode_f64_ordered(v));
}

/// Appends an i64 so that byte order equals numeric order.
pub(crate) fn push_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
}

/// Key prefix of all chunks of one metric of one run.
pub(crate) fn metric_prefix(run_id: &str, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(RUN_ID_LEN + key.len() + 7);
    k.push(METRICS.0);
    k.extend_from_slice(run_id.as_bytes());
    push_str(&mut k, key);
    k
}

/// Key of one chunk of one metric.
pub(crate) fn metric_chunk(run_id: &str, key: &str, chunk_no: u32) -> Vec<u8> {
    let mut k = metric_prefix(run_id, key);
    k.extend_from_slice(&chunk_no.to_be_bytes());
    k
}

/// Key of a named item of a run (artifact, dataset input).
pub(crate) fn run_item(space: Space, run_id: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(RUN_ID_LEN + name.len() + 3);
    k.push(space.0);
    k.extend_from_slice(run_id.as_bytes());
    push_str(&mut k, name);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> Vec<u8> {
        let mut o = Vec::new();
        push_f64(&mut o, v);
        o
    }

    #[test]
    fn f64_order_is_numeric_order() {
        let vals = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            1.0,
            2.5,
            1e300,
            f64::INFINITY,
        ];
        for w in vals.windows(2) {
            assert!(f(w[0]) <= f(w[1]), "{} vs {}", w[0], w[1]);
        }
    }

    #[test]
    fn escaped_strings_keep_order_and_do_not_prefix_match() {
        let enc = |s: &str| {
            let mut o = Vec::new();
            push_str(&mut o, s);
            o
        };
        let words = ["", "a", "a\0", "a\0b", "ab", "b"];
        for w in words.windows(2) {
            assert!(enc(w[0]) < enc(w[1]), "{:?} vs {:?}", w[0], w[1]);
        }
        assert!(!enc("ab").starts_with(&enc("a")));
        assert!(!enc("a\0b").starts_with(&enc("a")));
    }
}
