//! Demo images: a small PNG portrait per person (a light disc on a colour of its own) and a
//! cover per product (diagonal bands), written here so the seed needs no image files and no
//! image library. The encoder writes one stored
//! (uncompressed) deflate block, which every PNG reader accepts.

/// The side of a portrait, in pixels.
const SIDE: usize = 48;
/// A cover's width and height, in pixels (3:2).
const COVER: (usize, usize) = (96, 64);

/// A `SIDE`×`SIDE` RGB PNG: a light disc on a background coloured from `seed`.
pub(super) fn portrait(seed: &str) -> Vec<u8> {
    let background = tone(seed, 0);
    let disc = [235, 235, 240];
    let centre = SIDE as f64 / 2.0;
    let radius = SIDE as f64 / 3.0;
    png(SIDE, SIDE, |x, y| {
        let (dx, dy) = (x as f64 + 0.5 - centre, y as f64 + 0.5 - centre);
        if dx.hypot(dy) <= radius {
            disc
        } else {
            background
        }
    })
}

/// A `COVER` RGB PNG: diagonal bands in two colours of `seed`'s own.
pub(super) fn cover(seed: &str) -> Vec<u8> {
    let (first, second) = (tone(seed, 0), tone(seed, 1));
    let (width, height) = COVER;
    png(width, height, |x, y| {
        if (x + y) / 12 % 2 == 0 { first } else { second }
    })
}

/// A mid-tone colour (each channel in 64..=191) from `seed` and `salt`.
fn tone(seed: &str, salt: u8) -> [u8; 3] {
    let hash = seed
        .bytes()
        .chain(std::iter::once(salt))
        .fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
    let [r, g, b, _] = hash.to_le_bytes();
    [64 + r / 2, 64 + g / 2, 64 + b / 2]
}

/// A `width`×`height` 8-bit RGB PNG whose pixel at (x, y) is `pixel(x, y)`; the raw image
/// must stay under 64 KiB (one stored deflate block).
fn png(width: usize, height: usize, pixel: impl Fn(usize, usize) -> [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(height * (1 + width * 3));
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&pixel(x, y));
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&u32::try_from(width).unwrap_or(u32::MAX).to_be_bytes());
    header.extend_from_slice(&u32::try_from(height).unwrap_or(u32::MAX).to_be_bytes());
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

    /// The chunk types of `png`, after checking each CRC the way a reader does.
    fn chunk_kinds(png: &[u8]) -> Vec<String> {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
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
        // Every PNG ends with the same IEND chunk, CRC included.
        assert!(png.ends_with(b"\0\0\0\0IEND\xaeB`\x82"));
        kinds
    }

    /// Width, height and IDAT length of `png`.
    fn dimensions(png: &[u8]) -> (usize, usize, usize) {
        let word =
            |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes")) as usize;
        (word(16), word(20), word(33))
    }

    #[test]
    fn a_portrait_is_a_png_whose_checksums_hold() {
        let png = portrait("Asha");
        assert_eq!(chunk_kinds(&png), ["IHDR", "IDAT", "IEND"]);
        // The zlib stream over the known raw size: 48 rows of 1 + 48×3 bytes.
        assert_eq!(
            dimensions(&png),
            (SIDE, SIDE, 2 + 5 + SIDE * (1 + SIDE * 3) + 4)
        );
        assert_ne!(
            portrait("Asha"),
            portrait("Ben"),
            "each person has a colour"
        );
    }

    #[test]
    fn a_cover_is_a_wider_png_of_its_own() {
        let png = cover("ui-kit");
        assert_eq!(chunk_kinds(&png), ["IHDR", "IDAT", "IEND"]);
        let (width, height) = COVER;
        assert_eq!(
            dimensions(&png),
            (width, height, 2 + 5 + height * (1 + width * 3) + 4)
        );
        assert_ne!(cover("ui-kit"), cover("icons"), "each product has colours");
        assert_eq!(
            nexus_catalog::ImageKind::sniff(&png),
            Some(nexus_catalog::ImageKind::Png)
        );
    }

    #[test]
    fn adler32_matches_the_reference_value() {
        // Adler-32 of "Wikipedia" is 0x11E60398.
        let z = zlib_stored(b"Wikipedia");
        assert_eq!(&z[z.len() - 4..], &0x11E6_0398_u32.to_be_bytes());
    }
}
