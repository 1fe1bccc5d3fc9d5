//! Renders every e-mail template through the public `EmailRenderer` port.

use nexus_notifications::{EmailRenderer, EmailTemplate, NotificationsError, RenderedEmail};
use nexus_templates::{Branding, MinijinjaRenderer};

fn renderer() -> MinijinjaRenderer {
    MinijinjaRenderer::new(Branding {
        product_name: "Nexus Hub".to_owned(),
        sender_name: "The Nexus team".to_owned(),
        footer: "Nexus Ltd\n1 Example Street".to_owned(),
        base_url: "https://nexus.example.com".to_owned(),
    })
}

fn render(template: &EmailTemplate) -> RenderedEmail {
    renderer().render(template).expect("template renders")
}

fn response(content: &str) -> EmailTemplate {
    EmailTemplate::Response {
        customer_name: "Ada Lovelace".to_owned(),
        subject: "About your invoice".to_owned(),
        content: content.to_owned(),
    }
}

fn otp(purpose: &str, expires_in_minutes: u32) -> EmailTemplate {
    EmailTemplate::OneTimeCode {
        code: "482913".to_owned(),
        purpose: purpose.to_owned(),
        expires_in_minutes,
    }
}

fn order(invoice_url: Option<&str>) -> EmailTemplate {
    EmailTemplate::OrderConfirmation {
        customer_name: "Grace Hopper".to_owned(),
        order_reference: "NX-2025-0042".to_owned(),
        lines: vec![
            ("Rust <Advanced> Course".to_owned(), "₹1,499.00".to_owned()),
            ("Style guide PDF".to_owned(), "₹299.00".to_owned()),
        ],
        total: "₹1,798.00".to_owned(),
        invoice_url: invoice_url.map(str::to_owned),
    }
}

fn every_template() -> Vec<EmailTemplate> {
    vec![
        response("Hello"),
        EmailTemplate::Welcome {
            first_name: "Ada".to_owned(),
        },
        EmailTemplate::AccountExists {
            first_name: "Ada".to_owned(),
        },
        otp("LOGIN", 10),
        otp("VERIFY_EMAIL", 10),
        otp("SOMETHING_ELSE", 1),
        order(Some("https://nexus.example.com/invoices/42")),
        order(None),
        link("PASSWORD_RESET", 30),
        link("SOMETHING_ELSE", 1),
        link("EMAIL_CHANGE", 60),
        link("INVITE", 10080),
        EmailTemplate::IdentityLinked {
            first_name: "Ada".to_owned(),
            provider: "GitHub".to_owned(),
            provider_email: Some("ada@users.example".to_owned()),
        },
        EmailTemplate::IdentityLinked {
            first_name: "Ada".to_owned(),
            provider: "Google".to_owned(),
            provider_email: None,
        },
        EmailTemplate::EmailChangeNotice {
            first_name: "Ada".to_owned(),
            new_email: "ada.new@example.com".to_owned(),
        },
        deadline("Volume pricing", false),
        deadline("Volume pricing", true),
    ]
}

fn deadline(subject: &str, overdue: bool) -> EmailTemplate {
    EmailTemplate::ApprovalDeadline {
        first_name: "Grace".to_owned(),
        response_subject: subject.to_owned(),
        response_id: "0193a3c4-0000-7000-8000-000000000001".to_owned(),
        due_at: "2026-12-07 17:00 UTC".to_owned(),
        overdue,
    }
}

#[test]
fn a_deadline_message_says_whether_it_is_due_soon_or_overdue_and_names_the_response() {
    let soon = render(&deadline("Volume <pricing>", false));
    let late = render(&deadline("Volume <pricing>", true));
    assert_eq!(soon.subject, "Due for approval soon: Volume <pricing>");
    assert_eq!(late.subject, "Overdue for approval: Volume <pricing>");
    for (email, phrase) in [(&soon, "is due by"), (&late, "past its deadline of")] {
        assert!(email.text_body.contains("Hi Grace,"), "{}", email.text_body);
        assert!(email.text_body.contains(phrase), "{}", email.text_body);
        assert!(email.text_body.contains("2026-12-07 17:00 UTC"));
        assert!(
            email
                .text_body
                .contains("0193a3c4-0000-7000-8000-000000000001")
        );
        assert!(
            email.html_body.contains("Volume &lt;pricing&gt;"),
            "escaped in HTML"
        );
        assert!(!email.html_body.contains("Volume <pricing>"));
    }
}

fn link(purpose: &str, expires_in_minutes: u32) -> EmailTemplate {
    EmailTemplate::AccountLink {
        first_name: "Ada".to_owned(),
        purpose: purpose.to_owned(),
        token: "0123abcd".repeat(8),
        expires_in_minutes,
    }
}

#[test]
fn an_account_link_carries_its_token_in_the_body_but_never_in_the_subject() {
    let email = render(&link("PASSWORD_RESET", 30));
    let token = "0123abcd".repeat(8);
    assert!(!email.subject.contains(&token), "{}", email.subject);
    assert!(email.subject.contains("password"), "{}", email.subject);
    assert!(
        email
            .text_body
            .contains(&format!("/account/reset-password#token={token}")),
        "{}",
        email.text_body
    );
    assert!(email.html_body.contains(&token));
    assert!(email.text_body.contains("30 minutes"));
}

#[test]
fn an_invitation_links_to_the_acceptance_page_and_counts_its_lifetime_in_days() {
    let email = render(&link("INVITE", 7 * 24 * 60));
    let token = "0123abcd".repeat(8);
    assert!(!email.subject.contains(&token), "{}", email.subject);
    assert!(email.subject.contains("invited"), "{}", email.subject);
    assert!(
        email
            .text_body
            .contains(&format!("/account/accept-invite#token={token}")),
        "{}",
        email.text_body
    );
    assert!(email.html_body.contains("accept-invite#token="));
    assert!(email.text_body.contains("7 days"), "{}", email.text_body);
    assert!(email.text_body.contains("staff account"));
    assert!(!email.text_body.contains("nothing changes"));
}

#[test]
fn a_link_notice_names_the_provider_and_its_address() {
    let email = render(&EmailTemplate::IdentityLinked {
        first_name: "Ada".to_owned(),
        provider: "GitHub".to_owned(),
        provider_email: Some("ada@users.example".to_owned()),
    });
    assert!(email.subject.contains("GitHub"), "{}", email.subject);
    assert!(
        email
            .text_body
            .contains("A GitHub account (ada@users.example) was linked"),
        "{}",
        email.text_body
    );
    assert!(email.html_body.contains("If this was not you"));
}

#[test]
fn every_template_renders_a_subject_a_text_part_and_an_html_part() {
    for template in every_template() {
        let email = render(&template);
        assert!(!email.subject.is_empty(), "{template:?}: empty subject");
        assert!(
            !email.subject.contains('\n'),
            "{template:?}: multi-line subject"
        );
        assert!(
            email.text_body.len() > 40,
            "{template:?}: text part too short"
        );
        assert!(
            !email.text_body.contains("<p>"),
            "{template:?}: markup in the text part"
        );
        assert!(
            email.html_body.starts_with("<!DOCTYPE html>"),
            "{template:?}: not an HTML document"
        );
        assert!(
            email.html_body.trim_end().ends_with("</html>"),
            "{template:?}: HTML cut short"
        );
        assert!(
            email
                .html_body
                .contains(&format!("<title>{}</title>", email.subject)),
            "{template:?}: no title"
        );
    }
}

#[test]
fn subjects_name_what_the_message_is_about() {
    assert_eq!(render(&response("Hi")).subject, "About your invoice");
    assert_eq!(
        render(&EmailTemplate::Welcome {
            first_name: "Ada".to_owned()
        })
        .subject,
        "Welcome to Nexus Hub"
    );
    assert_eq!(
        render(&otp("LOGIN", 10)).subject,
        "Your Nexus Hub sign-in code"
    );
    assert_eq!(
        render(&otp("VERIFY_EMAIL", 10)).subject,
        "Verify your e-mail address for Nexus Hub"
    );
    assert_eq!(
        render(&otp("OTHER", 10)).subject,
        "Your Nexus Hub one-time code"
    );
    assert_eq!(
        render(&order(None)).subject,
        "Your Nexus Hub order NX-2025-0042"
    );
}

#[test]
fn a_response_subject_with_line_breaks_is_folded_onto_one_line() {
    let template = EmailTemplate::Response {
        customer_name: "Ada".to_owned(),
        subject: "Hello\r\nBcc: victim@example.com".to_owned(),
        content: "Hi".to_owned(),
    };

    assert_eq!(render(&template).subject, "Hello Bcc: victim@example.com");
}

#[test]
fn a_script_in_a_response_is_escaped_in_html_and_verbatim_in_text() {
    let email = render(&response("Look: <script>alert('x')</script> & more"));

    assert!(!email.html_body.contains("<script>"));
    assert!(email.html_body.contains("&lt;script&gt;"));
    assert!(email.html_body.contains("&amp; more"));
    assert!(
        email
            .text_body
            .contains("Look: <script>alert('x')</script> & more")
    );
}

#[test]
fn a_response_keeps_its_line_breaks_in_html() {
    let email = render(&response("First line\nSecond <line>\r\n\r\nNew paragraph"));

    assert!(
        email
            .html_body
            .contains("First line<br>\nSecond &lt;line&gt;<br>\n<br>\nNew paragraph")
    );
    assert!(
        email
            .text_body
            .contains("First line\nSecond <line>\r\n\r\nNew paragraph")
    );
}

#[test]
fn a_response_greets_the_customer_and_is_signed_by_the_sender() {
    let email = render(&response("Your refund is on its way."));

    assert!(
        email
            .text_body
            .starts_with("Dear Ada Lovelace,\n\nYour refund is on its way.\n")
    );
    assert!(email.text_body.contains("Kind regards,\nThe Nexus team"));
    assert!(email.html_body.contains("<p>Dear Ada Lovelace,</p>"));
    assert!(email.html_body.contains("The Nexus team"));
}

#[test]
fn names_are_escaped_in_html() {
    let email = render(&EmailTemplate::Welcome {
        first_name: "<b>Eve</b>".to_owned(),
    });

    assert!(email.html_body.contains("&lt;b&gt;Eve&lt;&#x2f;b&gt;"));
    assert!(!email.html_body.contains("<b>Eve"));
    assert!(email.text_body.contains("Hi <b>Eve</b>,"));
}

#[test]
fn branding_and_footer_appear_in_every_part() {
    for template in every_template() {
        let email = render(&template);
        assert!(
            email.text_body.contains("Nexus Ltd\n1 Example Street"),
            "{template:?}: text footer"
        );
        assert!(
            email
                .text_body
                .contains("Nexus Hub · https://nexus.example.com"),
            "{template:?}: text branding"
        );
        assert!(
            email.html_body.contains("Nexus Ltd<br>\n1 Example Street"),
            "{template:?}: HTML footer"
        );
        assert!(
            email.html_body.contains(">Nexus Hub</a>"),
            "{template:?}: HTML branding"
        );
        assert!(
            email
                .html_body
                .contains("https:&#x2f;&#x2f;nexus.example.com"),
            "{template:?}: HTML link"
        );
    }
}

#[test]
fn a_footer_with_markup_is_escaped_in_html() {
    let renderer = MinijinjaRenderer::new(Branding {
        product_name: "Nexus & Co".to_owned(),
        sender_name: "Team".to_owned(),
        footer: "<img src=x onerror=alert(1)>".to_owned(),
        base_url: "https://nexus.example.com".to_owned(),
    });

    let email = renderer
        .render(&EmailTemplate::Welcome {
            first_name: "Ada".to_owned(),
        })
        .expect("renders");

    assert!(!email.html_body.contains("<img"));
    assert!(
        email
            .html_body
            .contains("&lt;img src=x onerror=alert(1)&gt;")
    );
    assert!(email.html_body.contains("Nexus &amp; Co"));
    assert_eq!(email.subject, "Welcome to Nexus & Co");
}

#[test]
fn a_one_time_code_appears_in_the_body_but_never_in_the_subject() {
    for purpose in ["LOGIN", "VERIFY_EMAIL", "OTHER"] {
        let email = render(&otp(purpose, 10));
        assert!(!email.subject.contains("482913"));
        assert!(email.text_body.contains("    482913\n"));
        assert!(email.html_body.contains(">482913</p>"));
        assert!(email.text_body.contains("expires in 10 minutes"));
    }
}

#[test]
fn a_one_minute_code_says_minute_not_minutes() {
    let email = render(&otp("LOGIN", 1));

    assert!(email.text_body.contains("expires in 1 minute."));
    assert!(email.html_body.contains("expires in 1 minute."));
}

#[test]
fn a_login_code_and_a_verification_code_say_what_they_are_for() {
    assert!(
        render(&otp("LOGIN", 10))
            .text_body
            .starts_with("Use this code to sign in to Nexus Hub:\n")
    );
    assert!(
        render(&otp("VERIFY_EMAIL", 10))
            .text_body
            .starts_with("Use this code to verify your e-mail address")
    );
}

#[test]
fn an_order_confirmation_lists_every_line_and_the_total() {
    let email = render(&order(Some(
        "https://nexus.example.com/invoices/42?x=1&y=2",
    )));

    assert!(
        email
            .text_body
            .contains("- Rust <Advanced> Course: ₹1,499.00\n- Style guide PDF: ₹299.00\n")
    );
    assert!(email.text_body.contains("Total: ₹1,798.00"));
    assert!(
        email
            .text_body
            .contains("Invoice: https://nexus.example.com/invoices/42?x=1&y=2")
    );
    assert!(
        email
            .html_body
            .contains(">Rust &lt;Advanced&gt; Course</td>")
    );
    assert!(email.html_body.contains(">₹1,798.00</td>"));
    assert!(
        email
            .html_body
            .contains("invoices&#x2f;42?x=1&amp;y=2\">Download your invoice</a>")
    );
}

#[test]
fn an_order_without_an_invoice_has_no_invoice_link() {
    let email = render(&order(None));

    assert!(!email.text_body.contains("Invoice:"));
    assert!(!email.html_body.contains("Download your invoice"));
}

#[test]
fn the_text_part_has_no_runs_of_blank_lines_left_by_template_tags() {
    for template in every_template() {
        let email = render(&template);
        assert!(
            !email.text_body.contains("\n\n\n"),
            "{template:?}:\n{}",
            email.text_body
        );
        assert!(
            !email.text_body.starts_with('\n'),
            "{template:?}: starts with a blank line"
        );
    }
}

#[test]
fn rendering_is_repeatable_with_one_renderer() {
    let renderer = renderer();
    let first = renderer.render(&response("Hi")).expect("renders");
    let second = renderer.render(&response("Hi")).expect("renders again");

    assert_eq!(first, second);
}

#[test]
fn rendering_never_fails_with_an_unexpected_error_for_valid_data() {
    for template in every_template() {
        let result = renderer().render(&template);
        assert!(
            !matches!(result, Err(NotificationsError::Unexpected(_))),
            "{template:?}"
        );
    }
}
