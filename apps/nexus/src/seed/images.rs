//! Demo portraits: a small PNG per person (a light disc on a colour of its own), written here
//! so the seed needs no image files and no image library. The encoder writes one stored
//! (uncompressed) deflate block, which every PNG reader accepts.

/// The side of a portrait, in pixels.
const SIDE: usize = 48;

/// A `SIDE`×`SIDE` RGB PNG: a light disc on a background coloured from `seed`.
pub(super) fn portrait(seed: &str) -> Vec<u8> {
    let hash = seed.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let [r, g, b, _] = hash.to_le_bytes();
    // Mid-tone backgrounds: each channel in 64..=191.
    let background = [64 + r / 2, 64 + g / 2, 64 + b / 2];
    let disc = [235, 235, 240];
    let mut raw = Vec::with_capacity(SIDE * (1 + SIDE * 3));
    let centre = SIDE as f64 / 2.0;
    let radius = SIDE as f64 / 3.0;
    for y in 0..SIDE {
        raw.push(0); // filter: none
        for x in 0..SIDE {
            let (dx, dy) = (x as f64 + 0.5 - centre, y as f64 + 0.5 - centre);
            let pixel = if dx.hypot(dy) <= radius {
                disc
            } else {
                background
            };
            raw.extend_from_slice(&pixel);
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let side = u32::try_from(SIDE).unwrap_or(u32::MAX).to_be_bytes();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side);
    header.extend_from_slice(&side);
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter choice, no interlace
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

/// A zlib stream holding `data` in one stored block (`data` is under 64 KiB).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap_or(u16::MAX);
    let mut out = vec![0x78, 0x01, 0x01];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(&data[..usize::from(len)]);
    let (mut a, mut b) = (1_u32, 0_u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// Appends a PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = png[start..].iter().fold(0xffff_ffff_u32, |mut crc, &byte| {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
        crc
    });
    png.extend_from_slice(&(!crc).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portrait_is_a_png_whose_checksums_hold() {
        let png = portrait("Asha");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // Walk the chunks, checking each CRC the way a reader does.
        let mut at = 8;
        let mut kinds = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes")) as usize;
            let body = &png[at + 4..at + 8 + len];
            let mut expected = Vec::new();
            chunk(
                &mut expected,
                body[..4].try_into().expect("a type"),
                &body[4..],
            );
            assert_eq!(&expected[..], &png[at..at + 12 + len]);
            kinds.push(String::from_utf8_lossy(&body[..4]).into_owned());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
        // Every PNG ends with the same IEND chunk, CRC included.
        assert!(png.ends_with(b"\0\0\0\0IEND\xaeB`\x82"));
        // The zlib stream's Adler-32 over the known raw size: 48 rows of 1 + 48×3 bytes.
        let idat_len = u32::from_be_bytes(png[33..37].try_into().expect("4 bytes")) as usize;
        assert_eq!(idat_len, 2 + 5 + SIDE * (1 + SIDE * 3) + 4);
        assert_ne!(
            portrait("Asha"),
            portrait("Ben"),
            "each person has a colour"
        );
    }

    #[test]
    fn adler32_matches_the_reference_value() {
        // Adler-32 of "Wikipedia" is 0x11E60398.
        let z = zlib_stored(b"Wikipedia");
        assert_eq!(&z[z.len() - 4..], &0x11E6_0398_u32.to_be_bytes());
    }
}
