//! `SmtpMailer` against a real SMTP server (`scripts/smtp_sink.py`).

mod support;

use std::net::TcpListener;
use std::time::Duration;

use nexus_kernel::Email;
use nexus_notifications::{EmailMessage, MailError, Mailer};
use nexus_smtp_mailer::{InvalidMailConfig, Sender, SmtpMailer};
use serde_json::Value;
use support::{SmtpSink, free_port, python};

const TIMEOUT: Duration = Duration::from_secs(5);

fn sender() -> Sender {
    Sender::parse("Nexus Hub <no-reply@nexus.test>").expect("valid sender")
}

fn message(message_id: &str) -> EmailMessage {
    EmailMessage {
        message_id: message_id.to_owned(),
        to: Email::parse("ada@example.com").expect("valid e-mail"),
        to_name: Some("Ada Lovelace".to_owned()),
        subject: "Your response — über".to_owned(),
        text_body: "Hello <script>alert(1)</script>\nSecond line".to_owned(),
        html_body: "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;<br>\nSecond line</p>".to_owned(),
    }
}

fn mailer(url: &str) -> SmtpMailer {
    SmtpMailer::from_url(url, sender(), TIMEOUT).expect("valid SMTP URL")
}

fn text(record: &Value, field: &str) -> String {
    record[field]
        .as_str()
        .unwrap_or_default()
        .replace("\r\n", "\n")
}

#[tokio::test]
async fn a_message_arrives_with_its_recipient_subject_message_id_and_both_parts() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SmtpSink::start(&python, dir.path());
    let mailer = mailer(&sink.url());

    let result = mailer.send(&message("job-1@nexus.test")).await;

    assert!(matches!(result, Ok(())), "{result:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let record = &messages[0];
    assert_eq!(record["rcpt_tos"], serde_json::json!(["ada@example.com"]));
    assert_eq!(record["mail_from"], "no-reply@nexus.test");
    assert_eq!(record["to"], "Ada Lovelace <ada@example.com>");
    assert_eq!(record["from"], "Nexus Hub <no-reply@nexus.test>");
    assert_eq!(record["subject"], "Your response — über");
    assert_eq!(record["message_id"], "<job-1@nexus.test>");
    assert_eq!(record["content_type"], "multipart/alternative");
    assert_eq!(
        text(record, "text").trim_end(),
        "Hello <script>alert(1)</script>\nSecond line"
    );
    assert_eq!(
        text(record, "html").trim_end(),
        "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;<br>\nSecond line</p>"
    );
}

#[tokio::test]
async fn one_mailer_sends_several_messages() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SmtpSink::start(&python, dir.path());
    let mailer = mailer(&sink.url());

    for n in 0..3 {
        mailer
            .send(&message(&format!("job-{n}@nexus.test")))
            .await
            .expect("sent");
    }

    let ids: Vec<Value> = sink
        .messages()
        .iter()
        .map(|m| m["message_id"].clone())
        .collect();
    assert_eq!(ids.len(), 3);
    for n in 0..3 {
        assert!(
            ids.contains(&Value::from(format!("<job-{n}@nexus.test>"))),
            "{ids:?}"
        );
    }
}

#[tokio::test]
async fn a_server_that_is_not_running_is_a_transient_failure() {
    let mailer = mailer(&format!("smtp://127.0.0.1:{}", free_port()));

    let result = mailer.send(&message("job-1@nexus.test")).await;

    assert!(matches!(result, Err(MailError::Transient(_))), "{result:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_transient_failure_after_the_timeout() {
    // Connections queue in the backlog but no greeting ever comes.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("address").port();
    let mailer = SmtpMailer::from_url(
        &format!("smtp://127.0.0.1:{port}"),
        sender(),
        Duration::from_millis(500),
    )
    .expect("valid SMTP URL");

    let started = std::time::Instant::now();
    let result = mailer.send(&message("job-1@nexus.test")).await;

    assert!(matches!(result, Err(MailError::Transient(_))), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_permanent_refusal_is_a_permanent_failure() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SmtpSink::start_on(
        &python,
        free_port(),
        dir.path(),
        Some("550 5.1.1 no such user"),
    );

    let result = mailer(&sink.url()).send(&message("job-1@nexus.test")).await;

    assert!(matches!(result, Err(MailError::Permanent(_))), "{result:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_temporary_refusal_is_a_transient_failure() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SmtpSink::start_on(
        &python,
        free_port(),
        dir.path(),
        Some("451 4.3.0 try again later"),
    );

    let result = mailer(&sink.url()).send(&message("job-1@nexus.test")).await;

    assert!(matches!(result, Err(MailError::Transient(_))), "{result:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_server_that_is_stopped_and_started_again_gets_the_message_on_a_second_send() {
    let Some(python) = python() else { return };
    let (first_dir, second_dir) = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    let port = free_port();
    let sink = SmtpSink::start_on(&python, port, first_dir.path(), None);
    let mailer = mailer(&sink.url());
    mailer
        .send(&message("job-1@nexus.test"))
        .await
        .expect("first message sent");
    sink.stop();

    let while_down = mailer.send(&message("job-2@nexus.test")).await;
    let sink = SmtpSink::start_on(&python, port, second_dir.path(), None);
    let after_restart = mailer.send(&message("job-2@nexus.test")).await;

    assert!(
        matches!(while_down, Err(MailError::Transient(_))),
        "{while_down:?}"
    );
    assert!(matches!(after_restart, Ok(())), "{after_restart:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["message_id"], "<job-2@nexus.test>");
}

#[tokio::test]
async fn an_invalid_message_id_is_a_permanent_failure_without_contacting_the_server() {
    let mailer = mailer(&format!("smtp://127.0.0.1:{}", free_port()));

    let result = mailer.send(&message("job 1\r\nBcc: eve@example.com")).await;

    assert!(matches!(result, Err(MailError::Permanent(_))), "{result:?}");
}

#[test]
fn plain_starttls_and_implicit_tls_urls_are_accepted() {
    for url in [
        "smtp://localhost:1025",
        "smtp://user:secret@mail.example.com:587?tls=required",
        "smtp://mail.example.com?tls=opportunistic",
        "smtps://user:secret@email-smtp.eu-west-1.amazonaws.com:465",
        "smtps://AKIAEXAMPLE:abc%2Fdef%2Bghi@email-smtp.eu-west-1.amazonaws.com",
    ] {
        let result = SmtpMailer::from_url(url, sender(), TIMEOUT);
        assert!(result.is_ok(), "{url}: {result:?}");
    }
}

#[test]
fn unusable_urls_are_refused() {
    for url in [
        "",
        "localhost:25",
        "http://localhost",
        "smtp://",
        "smtp://host?tls=sometimes",
        "smtp://host:notaport",
    ] {
        let result = SmtpMailer::from_url(url, sender(), TIMEOUT);
        assert!(
            matches!(result, Err(InvalidMailConfig::Url(_))),
            "{url}: {result:?}"
        );
    }
}

#[test]
fn debug_output_and_errors_never_show_credentials() {
    let mailer = SmtpMailer::from_url(
        "smtps://AKIAUSER:s3cr%2Ft@email-smtp.eu-west-1.amazonaws.com:465",
        sender(),
        TIMEOUT,
    )
    .expect("valid SMTP URL");
    let refused = SmtpMailer::from_url("smtp://AKIAUSER:s3cr3t@host:notaport", sender(), TIMEOUT)
        .expect_err("invalid port");

    let shown = format!("{mailer:?} {refused} {refused:?}");

    assert!(!shown.contains("AKIAUSER"), "{shown}");
    assert!(!shown.contains("s3cr"), "{shown}");
    assert_eq!(
        mailer.endpoint(),
        "smtps://email-smtp.eu-west-1.amazonaws.com:465"
    );
}
