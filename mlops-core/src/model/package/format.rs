//! The binary container of a model package (layout in the
//! [parent module](super)).
//!
//! [`split_container`] checks the header before it touches the payload: both
//! declared lengths are compared with the bytes actually present before
//! anything is allocated, so a hostile length field costs nothing.

use serde::{Deserialize, Serialize};

use super::Payload;
use crate::error::{Error, Result};

/// Magic bytes at the start of every package.
pub const MAGIC: [u8; 6] = *b"MLPKG\0";

/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;

/// Length of the fixed header, checksum included.
pub const HEADER_LEN: usize = 56;

/// Largest provenance section accepted (it holds a time and a run id).
pub const MAX_PROVENANCE_LEN: u32 = 4096;

/// Offsets of the header fields.
const VERSION_AT: usize = 6;
const PAYLOAD_LEN_AT: usize = 8;
const DIGEST_AT: usize = 16;
const PROVENANCE_LEN_AT: usize = 48;
const CRC_AT: usize = 52;

const WHAT: &str = "model package";

/// What is kept outside the digest: it differs between two trainings of
/// the same model on the same data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Provenance {
    pub(crate) created_unix_ms: u64,
    pub(crate) run_id: Option<String>,
}

/// The checked parts of a container, borrowed from its bytes.
pub(crate) struct Parts<'a> {
    pub(crate) provenance: Provenance,
    pub(crate) payload: &'a [u8],
}

/// The payload bytes: MessagePack with field names, so later versions can
/// add optional fields.
pub(crate) fn encode_payload(payload: &Payload) -> Result<Vec<u8>> {
    rmp_serde::to_vec_named(payload).map_err(|e| Error::InvalidPackage {
        reason: format!("payload does not encode: {e}"),
    })
}

/// Header, provenance and payload.
pub(crate) fn encode_container(payload: &[u8], provenance: &Provenance) -> Result<Vec<u8>> {
    let prov = rmp_serde::to_vec_named(provenance).map_err(|e| Error::InvalidPackage {
        reason: format!("provenance does not encode: {e}"),
    })?;
    let prov_len = u32::try_from(prov.len())
        .ok()
        .filter(|&n| n <= MAX_PROVENANCE_LEN)
        .ok_or_else(|| Error::InvalidPackage {
            reason: format!(
                "provenance is {} bytes, more than {MAX_PROVENANCE_LEN} (run id too long?)",
                prov.len()
            ),
        })?;
    let mut out = Vec::with_capacity(HEADER_LEN + prov.len() + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(blake3::hash(payload).as_bytes());
    out.extend_from_slice(&prov_len.to_le_bytes());
    let crc = header_crc(&out[..CRC_AT], &prov);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&prov);
    out.extend_from_slice(payload);
    Ok(out)
}

/// CRC-32 of the fixed header fields and the provenance section.
fn header_crc(fixed: &[u8], provenance: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(fixed);
    h.update(provenance);
    h.finalize()
}

fn truncated(expected: u64, found: usize) -> Error {
    Error::Truncated {
        what: WHAT,
        expected,
        found: found as u64,
    }
}

/// Checks the container and returns its provenance and payload bytes (a
/// borrow of `bytes`). Only the provenance section, bounded by
/// [`MAX_PROVENANCE_LEN`], is decoded here.
pub(crate) fn split_container(bytes: &[u8]) -> Result<Parts<'_>> {
    // Magic first, so a file that is not a package at all (even a short one)
    // says so rather than "truncated".
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(Error::WrongMagic { what: WHAT });
    }
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or_else(|| truncated(HEADER_LEN as u64, bytes.len()))?;
    let version = u16::from_le_bytes(field(header, VERSION_AT));
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
    let prov_len = u32::from_le_bytes(field(header, PROVENANCE_LEN_AT));
    if prov_len > MAX_PROVENANCE_LEN {
        return Err(Error::InvalidPackage {
            reason: format!("provenance section of {prov_len} bytes exceeds {MAX_PROVENANCE_LEN}"),
        });
    }
    let body = &bytes[HEADER_LEN..];
    let prov = body
        .get(..prov_len as usize)
        .ok_or_else(|| truncated(HEADER_LEN as u64 + u64::from(prov_len), bytes.len()))?;
    let stored_crc = u32::from_le_bytes(field(header, CRC_AT));
    let crc = header_crc(&header[..CRC_AT], prov);
    if crc != stored_crc {
        return Err(Error::ChecksumMismatch {
            what: WHAT,
            section: "header",
            expected: format!("{stored_crc:08x}"),
            found: format!("{crc:08x}"),
        });
    }
    let payload = &body[prov.len()..];
    let declared = u64::from_le_bytes(field(header, PAYLOAD_LEN_AT));
    let present = payload.len() as u64;
    if declared > present {
        let start = (HEADER_LEN + prov.len()) as u64;
        return Err(truncated(start.saturating_add(declared), bytes.len()));
    }
    if declared < present {
        return Err(Error::TrailingBytes {
            what: WHAT,
            extra: present - declared,
        });
    }
    let stored: [u8; 32] = field(header, DIGEST_AT);
    let actual = blake3::hash(payload);
    if actual.as_bytes() != &stored {
        return Err(Error::ChecksumMismatch {
            what: WHAT,
            section: "payload",
            expected: blake3::Hash::from_bytes(stored).to_hex().to_string(),
            found: actual.to_hex().to_string(),
        });
    }
    super::scan::check(prov).map_err(|e| Error::InvalidPackage {
        reason: format!("provenance is not well-formed MessagePack: {e}"),
    })?;
    let provenance = rmp_serde::from_slice(prov).map_err(|e| Error::InvalidPackage {
        reason: format!("provenance does not decode: {e}"),
    })?;
    Ok(Parts {
        provenance,
        payload,
    })
}

/// A fixed-size field of the (length-checked) header.
fn field<const N: usize>(header: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&header[at..at + N]);
    out
}
