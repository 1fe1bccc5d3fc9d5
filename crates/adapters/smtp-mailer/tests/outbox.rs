//! `OutboxMailer` writing `.eml` files.

use std::path::Path;

use nexus_kernel::Email;
use nexus_notifications::{EmailMessage, MailError, Mailer};
use nexus_smtp_mailer::{OutboxMailer, Sender};

fn sender() -> Sender {
    Sender::parse("Nexus Hub <no-reply@nexus.test>").expect("valid sender")
}

fn message(message_id: &str, subject: &str) -> EmailMessage {
    EmailMessage {
        message_id: message_id.to_owned(),
        to: Email::parse("ada@example.com").expect("valid e-mail"),
        to_name: Some("Ada Lovelace".to_owned()),
        subject: subject.to_owned(),
        text_body: "Hello Ada".to_owned(),
        html_body: "<p>Hello &lt;Ada&gt;</p>".to_owned(),
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the outbox")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_outbox_writes_one_file_per_message_id_even_when_sent_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outbox = OutboxMailer::new(dir.path(), sender());

    outbox
        .send(&message("job-1@nexus.test", "First try"))
        .await
        .expect("written");
    outbox
        .send(&message("job-1@nexus.test", "Second try"))
        .await
        .expect("written again");
    outbox
        .send(&message("job-2@nexus.test", "Another"))
        .await
        .expect("written");

    assert_eq!(
        files(dir.path()),
        ["job-1@nexus.test.eml", "job-2@nexus.test.eml"]
    );
    let first = std::fs::read_to_string(outbox.path_for("job-1@nexus.test")).expect("read");
    assert!(
        first.contains("Subject: Second try\r\n"),
        "the resend replaces the file:\n{first}"
    );
}

#[tokio::test]
async fn the_outbox_file_is_a_complete_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outbox = OutboxMailer::new(dir.path(), sender());

    outbox
        .send(&message("job-1@nexus.test", "Welcome"))
        .await
        .expect("written");

    let raw = std::fs::read_to_string(outbox.path_for("job-1@nexus.test")).expect("read");
    assert!(raw.contains("Message-ID: <job-1@nexus.test>\r\n"), "{raw}");
    assert!(
        raw.contains("From: \"Nexus Hub\" <no-reply@nexus.test>\r\n"),
        "{raw}"
    );
    assert!(
        raw.contains("To: \"Ada Lovelace\" <ada@example.com>\r\n"),
        "{raw}"
    );
    assert!(raw.contains("Subject: Welcome\r\n"), "{raw}");
    assert!(raw.contains("Content-Type: multipart/alternative"), "{raw}");
    assert!(raw.contains("Hello Ada"), "{raw}");
    assert!(raw.contains("<p>Hello &lt;Ada&gt;</p>"), "{raw}");
}

#[tokio::test]
async fn the_outbox_creates_its_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nested = dir.path().join("data/outbox");
    let outbox = OutboxMailer::new(&nested, sender());

    outbox
        .send(&message("job-1@nexus.test", "Hi"))
        .await
        .expect("written");

    assert_eq!(files(&nested), ["job-1@nexus.test.eml"]);
}

#[tokio::test]
async fn a_message_id_cannot_write_outside_the_outbox() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outbox_dir = dir.path().join("outbox");
    let outbox = OutboxMailer::new(&outbox_dir, sender());

    let result = outbox.send(&message("../escaped", "Hi")).await;

    // Either refused as a Message-ID or written inside the outbox, never beside it.
    assert!(
        matches!(result, Ok(()) | Err(MailError::Permanent(_))),
        "{result:?}"
    );
    assert_eq!(files(dir.path()), ["outbox"]);
    assert!(outbox.path_for("../escaped").starts_with(&outbox_dir));
}

#[tokio::test]
async fn an_unwritable_outbox_is_a_transient_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"in the way").expect("write");
    let outbox = OutboxMailer::new(&not_a_dir, sender());

    let result = outbox.send(&message("job-1@nexus.test", "Hi")).await;

    assert!(matches!(result, Err(MailError::Transient(_))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_of_the_same_message_leave_one_whole_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outbox = OutboxMailer::new(dir.path(), sender());

    let sends: Vec<_> = (0..8)
        .map(|_| {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.send(&message("job-1@nexus.test", "Hi")).await })
        })
        .collect();
    for send in sends {
        send.await.expect("task finished").expect("written");
    }

    assert_eq!(files(dir.path()), ["job-1@nexus.test.eml"]);
    let raw = std::fs::read_to_string(outbox.path_for("job-1@nexus.test")).expect("read");
    assert!(raw.trim_end().ends_with("--"), "the file is whole:\n{raw}");
}
