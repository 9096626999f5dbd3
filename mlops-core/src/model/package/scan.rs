//! A structural pass over MessagePack bytes before serde decodes them.
//!
//! serde pre-allocates a `Vec` from the length a sequence declares (capped at
//! 1 MiB per sequence), so a few hostile bytes could make the decoder
//! allocate far more than the input. This pass walks the encoding without
//! allocating and rejects any container or string whose declared length
//! cannot fit in the bytes that remain (every element takes at least one
//! byte). After it passes, every length serde sees is bounded by the input
//! size, so decoding allocates in proportion to the input.

/// Checks that `bytes` hold exactly one well-formed MessagePack value whose
/// declared lengths all fit in the input. The error says what is wrong and
/// at which byte offset.
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    let mut pos = 0usize;
    // Values still to read; never exceeds the bytes left (checked below).
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let at = pos;
        let Some(&marker) = bytes.get(pos) else {
            return Err(format!(
                "ends at byte {pos} with {} values unread",
                pending + 1
            ));
        };
        pos += 1;
        let (skip, items): (u64, u64) = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * u64::from(marker & 0x0f)),
            0x90..=0x9f => (0, u64::from(marker & 0x0f)),
            0xa0..=0xbf => (u64::from(marker & 0x1f), 0),
            0xc1 => return Err(format!("byte {at}: 0xc1 is never used in MessagePack")),
            0xc4 | 0xd9 => (read_len(bytes, &mut pos, 1)?, 0),
            0xc5 | 0xda => (read_len(bytes, &mut pos, 2)?, 0),
            0xc6 | 0xdb => (read_len(bytes, &mut pos, 4)?, 0),
            // ext: length, then a type byte, then the data
            0xc7 => (read_len(bytes, &mut pos, 1)? + 1, 0),
            0xc8 => (read_len(bytes, &mut pos, 2)? + 1, 0),
            0xc9 => (read_len(bytes, &mut pos, 4)? + 1, 0),
            0xca => (4, 0),
            0xcb => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 => (4, 0),
            0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (0, read_len(bytes, &mut pos, 2)?),
            0xdd => (0, read_len(bytes, &mut pos, 4)?),
            0xde => (0, 2 * read_len(bytes, &mut pos, 2)?),
            0xdf => (0, 2 * read_len(bytes, &mut pos, 4)?),
        };
        let left = (bytes.len() - pos) as u64;
        if skip > left {
            return Err(format!(
                "byte {at}: declares {skip} bytes, only {left} remain"
            ));
        }
        pos += skip as usize;
        pending += items;
        let left = (bytes.len() - pos) as u64;
        if pending > left {
            return Err(format!(
                "byte {at}: {pending} values declared, only {left} bytes remain"
            ));
        }
    }
    if pos != bytes.len() {
        return Err(format!("{} bytes after the value", bytes.len() - pos));
    }
    Ok(())
}

/// A big-endian length of `width` bytes.
fn read_len(bytes: &[u8], pos: &mut usize, width: usize) -> Result<u64, String> {
    let field = bytes
        .get(*pos..*pos + width)
        .ok_or_else(|| format!("byte {}: length field cut off", *pos))?;
    *pos += width;
    Ok(field.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_rmp_serde_writes() {
        #[derive(serde::Serialize)]
        struct S {
            a: Vec<f64>,
            b: String,
            c: Option<u64>,
            d: std::collections::BTreeMap<String, i32>,
            e: Vec<u8>,
            f: (i8, i16, i32, i64, u16, u32, f32, bool),
        }
        let s = S {
            a: (0..300).map(f64::from).collect(),
            b: "x".repeat(70_000),
            c: None,
            d: (0..20).map(|i| (i.to_string(), -i)).collect(),
            e: vec![7; 300],
            f: (-1, -300, -70_000, i64::MIN, 60_000, 5_000_000, 1.5, true),
        };
        for bytes in [
            rmp_serde::to_vec(&s).expect("e"),
            rmp_serde::to_vec_named(&s).expect("e"),
        ] {
            assert_eq!(check(&bytes), Ok(()));
            for cut in 0..bytes.len().min(400) {
                assert!(check(&bytes[..cut]).is_err(), "cut {cut}");
            }
        }
    }

    #[test]
    fn rejects_lengths_beyond_the_input() {
        assert!(check(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
        assert!(check(&[0xdf, 0x00, 0x00, 0x00, 0x01, 0x01]).is_err());
        assert!(check(&[0xdb, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(check(&[0xc9, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
        assert!(check(&[0x92, 0x01]).is_err());
        assert!(check(&[0x92, 0x01, 0x02]).is_ok());
        assert!(check(&[0x01, 0x02]).is_err());
        assert!(check(&[0xc1]).is_err());
        assert!(check(&[]).is_err());
    }
}
