//! The envelope every persisted record is wrapped in:
//!
//! ```text
//! offset 0  2 bytes  magic b"mV"
//! offset 2  2 bytes  format version, u16 little-endian
//! offset 4  4 bytes  CRC-32 (IEEE) of the payload, u32 little-endian
//! offset 8  ...      payload: the record, MessagePack via rmp-serde
//! ```
//!
//! [`decode`] checks all of it and returns a typed error for anything that
//! does not match; it never panics on arbitrary bytes.

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};

/// Magic bytes at the start of every encoded value.
pub const MAGIC: [u8; 2] = *b"mV";

/// The value format this build writes and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;

/// Length of the envelope header.
pub const HEADER_LEN: usize = 8;

/// Encodes a record with the envelope. Structs are written as maps (field
/// names included) so that adding optional fields stays readable.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let payload = rmp_serde::to_vec_named(value).map_err(|e| Error::Corrupt {
        what: "value being encoded".into(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Decodes a record, checking magic, version and checksum. `what` names the
/// record in error messages (for example `run 7f3a… summary`).
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    let corrupt = |reason: String| Error::Corrupt {
        what: what.to_owned(),
        reason,
    };
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(format!(
            "{} bytes, shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        )));
    }
    if bytes[0..2] != MAGIC {
        return Err(corrupt("bad magic bytes".into()));
    }
    let version = u16::from_le_bytes([bytes[2], bytes[3]]);
    if version > FORMAT_VERSION {
        return Err(Error::IncompatibleFormat {
            what: what.to_owned(),
            found: u32::from(version),
            supported: u32::from(FORMAT_VERSION),
        });
    }
    let crc = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let payload = &bytes[HEADER_LEN..];
    if crc32fast::hash(payload) != crc {
        return Err(corrupt("checksum mismatch".into()));
    }
    rmp_serde::from_slice(payload).map_err(|e| corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_typed_errors() {
        let v = vec![("a".to_string(), 1.5f64)];
        let bytes = encode(&v).expect("encode");
        let back: Vec<(String, f64)> = decode(&bytes, "test").expect("decode");
        assert_eq!(back, v);

        let mut newer = bytes.clone();
        newer[2..4].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let err = decode::<Vec<(String, f64)>>(&newer, "test").unwrap_err();
        assert!(
            matches!(
                err,
                Error::IncompatibleFormat {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err}"
        );

        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        assert!(matches!(
            decode::<Vec<(String, f64)>>(&flipped, "t"),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            decode::<Vec<(String, f64)>>(&bytes[..5], "t"),
            Err(Error::Corrupt { .. })
        ));
    }
}
