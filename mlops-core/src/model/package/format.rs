//! The binary container of a model package (layout in the
//! [parent module](super)).
//!
//! [`split_container`] checks the header before it touches the payload: the
//! declared payload length is compared with the bytes actually present
//! before anything is allocated, so a hostile length field costs nothing.

use super::Payload;
use crate::error::{Error, Result};

/// Magic bytes at the start of every package.
pub const MAGIC: [u8; 6] = *b"MLPKG\0";

/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;

/// Length of the fixed header, checksum included.
pub const HEADER_LEN: usize = 60;

/// Offsets of the header fields.
const VERSION_AT: usize = 6;
const CREATED_AT: usize = 8;
const LEN_AT: usize = 16;
const DIGEST_AT: usize = 24;
const CRC_AT: usize = 56;

const WHAT: &str = "model package";

/// The payload bytes: MessagePack with field names, so later versions can
/// add optional fields.
pub(crate) fn encode_payload(payload: &Payload) -> Result<Vec<u8>> {
    rmp_serde::to_vec_named(payload).map_err(|e| Error::InvalidPackage {
        reason: format!("payload does not encode: {e}"),
    })
}

/// Header and payload.
pub(crate) fn encode_container(payload: &[u8], created_unix_ms: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&created_unix_ms.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(blake3::hash(payload).as_bytes());
    let crc = crc32fast::hash(&out[..CRC_AT]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Checks the container and returns the created time and the payload
/// bytes (a borrow of `bytes`: nothing is allocated here).
pub(crate) fn split_container(bytes: &[u8]) -> Result<(u64, &[u8])> {
    // Magic first, so a file that is not a package at all (even a short one)
    // says so rather than "truncated".
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(Error::WrongMagic { what: WHAT });
    }
    let header = bytes.get(..HEADER_LEN).ok_or(Error::Truncated {
        what: WHAT,
        expected: HEADER_LEN as u64,
        found: bytes.len() as u64,
    })?;
    let version = u16::from_le_bytes([header[VERSION_AT], header[VERSION_AT + 1]]);
    if version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            what: WHAT,
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(Error::InvalidPackage {
            reason: "format version 0 does not exist".into(),
        });
    }
    let stored_crc = u32::from_le_bytes(field(header, CRC_AT));
    let crc = crc32fast::hash(&header[..CRC_AT]);
    if crc != stored_crc {
        return Err(Error::ChecksumMismatch {
            what: WHAT,
            section: "header",
            expected: format!("{stored_crc:08x}"),
            found: format!("{crc:08x}"),
        });
    }
    let created = u64::from_le_bytes(field(header, CREATED_AT));
    let declared = u64::from_le_bytes(field(header, LEN_AT));
    let body = &bytes[HEADER_LEN..];
    let present = body.len() as u64;
    if declared > present {
        return Err(Error::Truncated {
            what: WHAT,
            expected: (HEADER_LEN as u64).saturating_add(declared),
            found: bytes.len() as u64,
        });
    }
    if declared < present {
        return Err(Error::TrailingBytes {
            what: WHAT,
            extra: present - declared,
        });
    }
    let stored: [u8; 32] = field(header, DIGEST_AT);
    let actual = blake3::hash(body);
    if actual.as_bytes() != &stored {
        return Err(Error::ChecksumMismatch {
            what: WHAT,
            section: "payload",
            expected: blake3::Hash::from_bytes(stored).to_hex().to_string(),
            found: actual.to_hex().to_string(),
        });
    }
    Ok((created, body))
}

/// A fixed-size field of the (length-checked) header.
fn field<const N: usize>(header: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&header[at..at + N]);
    out
}
