//! Expiring links to stored files: issued and opened against the injected clock, so the
//! lifetime of a link is a rule of the domain, not of whoever asks for one.

use std::sync::Arc;

use chrono::Duration;
use nexus_kernel::Clock;

use crate::{AssetError, AssetKey, AssetStore, SignedLink};

/// The bytes behind an app-signed link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedFile {
    /// The file.
    pub bytes: Vec<u8>,
    /// Its MIME type.
    pub content_type: String,
}

/// Issues and opens download links valid for one lifetime (`LINK_TTL_SECS`).
pub struct FileLinks {
    assets: Arc<dyn AssetStore>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
}

impl FileLinks {
    /// Links to files in `assets`, each valid for `ttl` from the moment `clock` gives.
    #[must_use]
    pub fn new(assets: Arc<dyn AssetStore>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self { assets, clock, ttl }
    }

    /// A GET link to `key` offering `file_name` as the download name, valid from now.
    ///
    /// # Errors
    /// `AssetError` from the store (`Unexpected` when it is down).
    pub async fn issue(&self, key: &AssetKey, file_name: &str) -> Result<SignedLink, AssetError> {
        self.assets
            .download_link(key, file_name, self.ttl, self.clock.now())
            .await
    }

    /// The file behind an app-signed link, while the link is valid.
    ///
    /// # Errors
    /// `InvalidLink` for a malformed, tampered or expired link, and for a link to a file no
    /// longer stored (the two look the same to whoever holds the link); `Unexpected`.
    pub async fn open(
        &self,
        key: &str,
        expires: i64,
        signature: &str,
    ) -> Result<OpenedFile, AssetError> {
        match self
            .assets
            .open_link(key, expires, signature, self.clock.now())
            .await
        {
            Ok((bytes, content_type)) => Ok(OpenedFile {
                bytes,
                content_type,
            }),
            Err(AssetError::NotFound) => Err(AssetError::InvalidLink),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use nexus_kernel::FixedClock;

    use super::*;
    use crate::MockAssetStore;

    fn key() -> AssetKey {
        AssetKey::parse("products/a/file.pdf").expect("valid key")
    }

    #[tokio::test]
    async fn a_link_is_issued_for_its_lifetime_from_the_clocks_now() {
        let now = FixedClock::default().0;
        let mut assets = MockAssetStore::new();
        assets
            .expect_download_link()
            .withf(move |_, name, ttl, at| {
                name == "file.pdf" && *ttl == Duration::minutes(5) && *at == now
            })
            .returning(|_, _, ttl, at| {
                Ok(SignedLink {
                    url: "https://files/x".to_owned(),
                    expires_at: at + ttl,
                })
            });
        let links = FileLinks::new(
            Arc::new(assets),
            Arc::new(FixedClock(now)),
            Duration::minutes(5),
        );

        let link = links.issue(&key(), "file.pdf").await.expect("issued");

        assert_eq!(link.expires_at, now + Duration::minutes(5));
    }

    #[tokio::test]
    async fn a_link_to_a_file_no_longer_stored_is_an_invalid_link() {
        let mut assets = MockAssetStore::new();
        assets
            .expect_open_link()
            .returning(|_, _, _, _| Err(AssetError::NotFound));
        let links = FileLinks::new(
            Arc::new(assets),
            Arc::new(FixedClock::default()),
            Duration::minutes(5),
        );

        let opened = links.open("products/a/file.pdf", 1, "sig").await;

        assert!(matches!(opened, Err(AssetError::InvalidLink)));
    }

    #[tokio::test]
    async fn a_link_is_checked_against_the_clocks_now() {
        let now: DateTime<Utc> = FixedClock::default().0;
        let mut assets = MockAssetStore::new();
        assets
            .expect_open_link()
            .withf(move |_, _, _, at| *at == now)
            .returning(|_, _, _, _| Ok((b"pdf".to_vec(), "application/pdf".to_owned())));
        let links = FileLinks::new(
            Arc::new(assets),
            Arc::new(FixedClock(now)),
            Duration::minutes(5),
        );

        let opened = links.open("products/a/file.pdf", 1, "sig").await;

        assert!(matches!(opened, Ok(f) if f.content_type == "application/pdf"));
    }
}
