use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use nexus_notifications::{EmailMessage, MailError, Mailer};

use crate::{Sender, message};

/// Tells temporary files of concurrent writes apart.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// "Sends" mail by writing each message as an `.eml` file into a directory: the default when
/// no SMTP server is configured, and what tests read.
///
/// A file is named after the message's Message-ID, so sending the same message again (a
/// retried job) replaces its file instead of adding one. Files appear whole: each is written
/// under a temporary name and then renamed.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
    from: Sender,
}

impl OutboxMailer {
    /// An outbox in `dir` (created on first send), sending as `from`.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>, from: Sender) -> Self {
        Self {
            dir: dir.into(),
            from,
        }
    }

    /// The directory messages are written to.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the message with `message_id` is (or would be) written: `<dir>/<id>.eml`, with
    /// every character outside `A-Z a-z 0-9 @ + _ - .` (and a leading dot) percent-encoded, so
    /// different ids never share a file and no id can leave the directory.
    #[must_use]
    pub fn path_for(&self, message_id: &str) -> PathBuf {
        self.dir.join(format!("{}.eml", file_stem(message_id)))
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        let bytes = message::build(&self.from, message)?.formatted();
        let path = self.path_for(&message.message_id);
        let write = WRITES.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(
            ".{}.{}-{write}.tmp",
            file_stem(&message.message_id),
            std::process::id()
        ));
        let written = async {
            tokio::fs::create_dir_all(&self.dir).await?;
            tokio::fs::write(&tmp, &bytes).await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if let Err(err) = written {
            // Best effort: a failed write must not leave a stray temporary file behind.
            let _ = tokio::fs::remove_file(&tmp).await;
            tracing::warn!(message_id = %message.message_id, error = %err, "could not write to the outbox");
            return Err(MailError::Transient(format!(
                "could not write the message to the outbox: {err}"
            )));
        }
        tracing::info!(message_id = %message.message_id, path = %path.display(), "mail written to the outbox");
        Ok(())
    }
}

/// `message_id` with every byte outside a safe set percent-encoded (injective, no `/`, no
/// leading dot).
fn file_stem(message_id: &str) -> String {
    let mut stem = String::with_capacity(message_id.len());
    for (i, byte) in message_id.bytes().enumerate() {
        let safe = byte.is_ascii_alphanumeric()
            || matches!(byte, b'@' | b'+' | b'_' | b'-')
            || (byte == b'.' && i > 0);
        if safe {
            stem.push(char::from(byte));
        } else {
            let _ = write!(stem, "%{byte:02X}");
        }
    }
    if stem.is_empty() {
        "%".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_ordinary_message_ids_readable() {
        assert_eq!(
            file_stem("job-0190a1b2@nexus.local"),
            "job-0190a1b2@nexus.local"
        );
    }

    #[test]
    fn file_names_encode_everything_that_could_leave_the_directory() {
        assert_eq!(file_stem("../../etc/passwd"), "%2E.%2F..%2Fetc%2Fpasswd");
        assert_eq!(file_stem(".hidden"), "%2Ehidden");
        assert_eq!(file_stem("a b%c"), "a%20b%25c");
        assert_eq!(file_stem(""), "%");
    }

    #[test]
    fn different_message_ids_never_share_a_file() {
        assert_ne!(file_stem("a/b"), file_stem("a_b"));
        assert_ne!(file_stem("a%2Fb"), file_stem("a/b"));
    }
}
