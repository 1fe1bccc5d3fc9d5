//! Images kept in the asset store (product covers here; team photos and post covers in the
//! content context): the accepted kinds, known by their first bytes, and the store calls
//! every image owner makes the same way.

use chrono::{DateTime, Duration, Utc};
use nexus_kernel::Unexpected;

use crate::{AssetKey, AssetStore, SignedLink};

/// The largest image accepted, in bytes (2 MiB).
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// How long a public image link lives, in seconds.
pub const IMAGE_LINK_TTL_SECS: i64 = 300;

/// An image type the store accepts, known by its first bytes (never by what the client
/// claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
}

impl ImageKind {
    /// The kind whose magic bytes `bytes` starts with; `None` for anything else.
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// Its media type.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    /// Its file extension.
    #[must_use]
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
        }
    }
}

/// Why bytes are not an image the store takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageRejection {
    /// Over [`MAX_IMAGE_BYTES`].
    TooLarge,
    /// Not a PNG, JPEG or WebP by its first bytes.
    Unsupported,
}

/// Checks `bytes` (size first, then magic bytes) and tells its kind.
///
/// # Errors
/// The [`ImageRejection`].
pub fn check_image(bytes: &[u8]) -> Result<ImageKind, ImageRejection> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ImageRejection::TooLarge);
    }
    ImageKind::sniff(bytes).ok_or(ImageRejection::Unsupported)
}

/// A stored image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// Its object-store key.
    pub key: String,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Stores an image of `kind` under a new key `<prefix>-<uuid v7>.<ext>`, so a replaced
/// image never shares a key (or a cached link) with its successor.
///
/// # Errors
/// `Unexpected` (the store failed, or `prefix` makes no valid key).
pub async fn store_image(
    assets: &dyn AssetStore,
    prefix: &str,
    kind: ImageKind,
    bytes: Vec<u8>,
) -> Result<StoredImage, Unexpected> {
    let key = AssetKey::parse(&format!(
        "{prefix}-{}.{}",
        uuid::Uuid::now_v7(),
        kind.extension()
    ))
    .map_err(|e| Unexpected::msg(format!("an image key: {e}")))?;
    let stored = assets
        .put(&key, bytes, kind.content_type())
        .await
        .map_err(|e| Unexpected::msg(format!("storing an image: {e}")))?;
    Ok(StoredImage {
        key: key.as_str().to_owned(),
        content_type: kind.content_type().to_owned(),
        size: stored.size,
    })
}

/// After saving a record whose image `previous` was replaced by the one stored at `new_key`,
/// deletes the image nobody references any more: the one replaced when the save succeeded,
/// else the new one.
pub async fn settle_images(
    assets: &dyn AssetStore,
    saved: bool,
    previous: Option<StoredImage>,
    new_key: String,
) {
    let unreferenced = if saved {
        previous.map(|old| old.key)
    } else {
        Some(new_key)
    };
    if let Some(key) = unreferenced {
        discard_image(assets, &key).await;
    }
}

/// Deletes a stored image nobody references any more. Best effort: the record is already
/// consistent, so a failure only leaves an orphan object, which is logged.
pub async fn discard_image(assets: &dyn AssetStore, key: &str) {
    let deleted = match AssetKey::parse(key) {
        Ok(parsed) => assets.delete(&parsed).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = deleted {
        tracing::warn!(%key, %error, "could not delete an unreferenced image");
    }
}

/// A link to a stored image valid for [`IMAGE_LINK_TTL_SECS`] from `now`.
///
/// # Errors
/// `Unexpected`.
pub async fn image_link(
    assets: &dyn AssetStore,
    image: &StoredImage,
    now: DateTime<Utc>,
) -> Result<SignedLink, Unexpected> {
    let key = AssetKey::parse(&image.key)
        .map_err(|e| Unexpected::msg(format!("a stored image key: {e}")))?;
    let ext = image.key.rsplit('.').next().unwrap_or("img");
    assets
        .download_link(
            &key,
            &format!("image.{ext}"),
            Duration::seconds(IMAGE_LINK_TTL_SECS),
            now,
        )
        .await
        .map_err(|e| Unexpected::msg(format!("linking an image: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_magic_bytes_only() {
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(b"\xff\xd8\xff\xe0.."),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(ImageKind::sniff(b"RIFF\x10\0\0\0WAVE"), None);
        assert_eq!(ImageKind::sniff(b""), None);
    }

    #[test]
    fn size_is_checked_before_the_kind() {
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert_eq!(check_image(&big), Err(ImageRejection::TooLarge));
        big.truncate(MAX_IMAGE_BYTES);
        assert_eq!(check_image(&big), Ok(ImageKind::Png));
        assert_eq!(check_image(b"GIF89a"), Err(ImageRejection::Unsupported));
    }
}
