//! Turns an `EmailMessage` into a MIME message, the same way for every mailer.

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use nexus_notifications::{EmailMessage, MailError};

use crate::Sender;

/// A multipart/alternative message (text, then HTML) with the message's own Message-ID.
///
/// # Errors
/// `MailError::Permanent` when the recipient or the Message-ID cannot be used: sending the
/// same message again would fail the same way.
pub(crate) fn build(from: &Sender, message: &EmailMessage) -> Result<Message, MailError> {
    let to_address = message.to.as_str().parse().map_err(|err| {
        MailError::Permanent(format!("the recipient address is not usable: {err}"))
    })?;
    let to_name = message
        .to_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Message::builder()
        .message_id(Some(format!("<{}>", message_id(message)?)))
        .from(from.mailbox().clone())
        .to(Mailbox::new(to_name, to_address))
        .subject(message.subject.as_str())
        .multipart(MultiPart::alternative_plain_html(
            message.text_body.clone(),
            message.html_body.clone(),
        ))
        .map_err(|err| MailError::Permanent(format!("the message could not be built: {err}")))
}

/// The Message-ID without angle brackets, checked so that it cannot break the header.
fn message_id(message: &EmailMessage) -> Result<&str, MailError> {
    let id = message
        .message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>');
    if valid {
        Ok(id)
    } else {
        Err(MailError::Permanent(
            "the Message-ID is not valid".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use nexus_kernel::Email;

    use super::*;

    fn message(message_id: &str) -> EmailMessage {
        EmailMessage {
            message_id: message_id.to_owned(),
            to: Email::parse("ada@example.com").expect("valid e-mail"),
            to_name: Some("Ada Lovelace".to_owned()),
            subject: "Hello".to_owned(),
            text_body: "Hi Ada".to_owned(),
            html_body: "<p>Hi Ada</p>".to_owned(),
        }
    }

    fn sender() -> Sender {
        Sender::parse("Nexus <no-reply@nexus.test>").expect("valid sender")
    }

    fn formatted(message: &EmailMessage) -> String {
        String::from_utf8(build(&sender(), message).expect("builds").formatted())
            .expect("ASCII message")
    }

    #[test]
    fn the_message_carries_its_message_id_in_angle_brackets() {
        assert!(
            formatted(&message("job-1@nexus.test")).contains("Message-ID: <job-1@nexus.test>\r\n")
        );
        assert!(
            formatted(&message("<job-1@nexus.test>"))
                .contains("Message-ID: <job-1@nexus.test>\r\n")
        );
    }

    #[test]
    fn the_message_has_a_text_and_an_html_alternative() {
        let raw = formatted(&message("job-1@nexus.test"));

        assert!(raw.contains("Content-Type: multipart/alternative"));
        assert!(raw.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(raw.contains("Content-Type: text/html; charset=utf-8"));
        assert!(
            raw.find("text/plain") < raw.find("text/html"),
            "text must come before HTML"
        );
    }

    #[test]
    fn the_recipient_is_addressed_by_name() {
        let raw = formatted(&message("job-1@nexus.test"));

        assert!(
            raw.contains("To: \"Ada Lovelace\" <ada@example.com>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("From: Nexus <no-reply@nexus.test>\r\n"),
            "{raw}"
        );
    }

    #[test]
    fn a_message_id_that_could_break_the_header_is_refused() {
        for id in [
            "",
            "<>",
            "job 1@nexus.test",
            "job-1@nexus.test\r\nBcc: eve@example.com",
            "a<b@c",
        ] {
            assert!(
                matches!(build(&sender(), &message(id)), Err(MailError::Permanent(_))),
                "{id:?}"
            );
        }
    }
}
