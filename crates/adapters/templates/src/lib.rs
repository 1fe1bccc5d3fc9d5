#![doc = include_str!("../README.md")]

use std::fmt;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{Environment, HtmlEscape, UndefinedBehavior, context};
use nexus_kernel::Unexpected;
use nexus_notifications::{EmailRenderer, EmailTemplate, NotificationsError, RenderedEmail};

/// Every template, by name, compiled into the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.txt", include_str!("../templates/layout.txt")),
    ("layout.html", include_str!("../templates/layout.html")),
    (
        "response.subject.txt",
        include_str!("../templates/response.subject.txt"),
    ),
    ("response.txt", include_str!("../templates/response.txt")),
    ("response.html", include_str!("../templates/response.html")),
    (
        "welcome.subject.txt",
        include_str!("../templates/welcome.subject.txt"),
    ),
    ("welcome.txt", include_str!("../templates/welcome.txt")),
    ("welcome.html", include_str!("../templates/welcome.html")),
    (
        "account_exists.subject.txt",
        include_str!("../templates/account_exists.subject.txt"),
    ),
    (
        "account_exists.txt",
        include_str!("../templates/account_exists.txt"),
    ),
    (
        "account_exists.html",
        include_str!("../templates/account_exists.html"),
    ),
    (
        "one_time_code.subject.txt",
        include_str!("../templates/one_time_code.subject.txt"),
    ),
    (
        "one_time_code.txt",
        include_str!("../templates/one_time_code.txt"),
    ),
    (
        "one_time_code.html",
        include_str!("../templates/one_time_code.html"),
    ),
    (
        "account_link.subject.txt",
        include_str!("../templates/account_link.subject.txt"),
    ),
    (
        "account_link.txt",
        include_str!("../templates/account_link.txt"),
    ),
    (
        "account_link.html",
        include_str!("../templates/account_link.html"),
    ),
    (
        "identity_linked.subject.txt",
        include_str!("../templates/identity_linked.subject.txt"),
    ),
    (
        "identity_linked.txt",
        include_str!("../templates/identity_linked.txt"),
    ),
    (
        "identity_linked.html",
        include_str!("../templates/identity_linked.html"),
    ),
    (
        "email_change_notice.subject.txt",
        include_str!("../templates/email_change_notice.subject.txt"),
    ),
    (
        "email_change_notice.txt",
        include_str!("../templates/email_change_notice.txt"),
    ),
    (
        "email_change_notice.html",
        include_str!("../templates/email_change_notice.html"),
    ),
    (
        "order_confirmation.subject.txt",
        include_str!("../templates/order_confirmation.subject.txt"),
    ),
    (
        "order_confirmation.txt",
        include_str!("../templates/order_confirmation.txt"),
    ),
    (
        "order_confirmation.html",
        include_str!("../templates/order_confirmation.html"),
    ),
    (
        "refund_notice.subject.txt",
        include_str!("../templates/refund_notice.subject.txt"),
    ),
    (
        "refund_notice.txt",
        include_str!("../templates/refund_notice.txt"),
    ),
    (
        "refund_notice.html",
        include_str!("../templates/refund_notice.html"),
    ),
    (
        "approval_deadline.subject.txt",
        include_str!("../templates/approval_deadline.subject.txt"),
    ),
    (
        "approval_deadline.txt",
        include_str!("../templates/approval_deadline.txt"),
    ),
    (
        "approval_deadline.html",
        include_str!("../templates/approval_deadline.html"),
    ),
];

/// Who the e-mails come from, shown in every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    /// Product name, in headings and subjects ("Customer Nexus Hub").
    pub product_name: String,
    /// Who signs the messages ("The Nexus team").
    pub sender_name: String,
    /// Footer under every message (company name, address); line breaks are kept.
    pub footer: String,
    /// Public address of the storefront, for links (`https://nexus.example.com`).
    pub base_url: String,
}

/// Renders every [`EmailTemplate`] with MiniJinja templates embedded in the binary: HTML
/// autoescaped, text verbatim, subjects on one line.
pub struct MinijinjaRenderer {
    env: Environment<'static>,
    branding: Branding,
}

impl fmt::Debug for MinijinjaRenderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MinijinjaRenderer")
            .field("branding", &self.branding)
            .finish_non_exhaustive()
    }
}

impl MinijinjaRenderer {
    /// A renderer that signs every message with `branding`. Templates are compiled on first
    /// use, so building one is cheap and cannot fail.
    #[must_use]
    pub fn new(branding: Branding) -> Self {
        let mut env = Environment::new();
        // Block tags on their own lines leave no blank lines behind in the text parts.
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .unwrap_or_default(),
        );
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_loader(|name| {
            Ok(TEMPLATES
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, source)| (*source).to_owned()))
        });
        env.add_filter("nl2br", nl2br);
        env.add_global("product_name", branding.product_name.clone());
        env.add_global("sender_name", branding.sender_name.clone());
        env.add_global("footer", branding.footer.clone());
        env.add_global("base_url", branding.base_url.clone());
        Self { env, branding }
    }

    /// The branding this renderer signs with.
    #[must_use]
    pub const fn branding(&self) -> &Branding {
        &self.branding
    }

    fn render_part(&self, name: &str, ctx: Value) -> Result<String, NotificationsError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(ctx))
            .map_err(|err| Unexpected::new(format!("rendering e-mail template {name}"), err).into())
    }
}

impl EmailRenderer for MinijinjaRenderer {
    fn render(&self, template: &EmailTemplate) -> Result<RenderedEmail, NotificationsError> {
        let (name, ctx) = template_data(template);
        let subject = one_line(&self.render_part(&format!("{name}.subject.txt"), ctx.clone())?);
        let ctx = context! { title => subject.clone(), ..ctx };
        let text_body = self.render_part(&format!("{name}.txt"), ctx.clone())?;
        let html_body = self.render_part(&format!("{name}.html"), ctx)?;
        Ok(RenderedEmail {
            subject,
            text_body,
            html_body,
        })
    }
}

/// The template name and the variables of `template`.
fn template_data(template: &EmailTemplate) -> (&'static str, Value) {
    match template {
        EmailTemplate::Response {
            customer_name,
            subject,
            content,
        } => (
            "response",
            context! { customer_name => customer_name.clone(), subject => subject.clone(), content => content.clone() },
        ),
        EmailTemplate::Welcome { first_name } => {
            ("welcome", context! { first_name => first_name.clone() })
        }
        EmailTemplate::AccountExists { first_name } => (
            "account_exists",
            context! { first_name => first_name.clone() },
        ),
        EmailTemplate::OneTimeCode {
            code,
            purpose,
            expires_in_minutes,
        } => (
            "one_time_code",
            context! { code => code.clone(), purpose => purpose.clone(), expires_in_minutes => *expires_in_minutes },
        ),
        EmailTemplate::AccountLink {
            first_name,
            purpose,
            token,
            expires_in_minutes,
        } => (
            "account_link",
            context! {
                first_name => first_name.clone(),
                purpose => purpose.clone(),
                token => token.clone(),
                expires_in_minutes => *expires_in_minutes,
            },
        ),
        EmailTemplate::IdentityLinked {
            first_name,
            provider,
            provider_email,
        } => (
            "identity_linked",
            context! {
                first_name => first_name.clone(),
                provider => provider.clone(),
                provider_email => provider_email.clone(),
            },
        ),
        EmailTemplate::EmailChangeNotice {
            first_name,
            new_email,
        } => (
            "email_change_notice",
            context! { first_name => first_name.clone(), new_email => new_email.clone() },
        ),
        EmailTemplate::OrderConfirmation {
            customer_name,
            order_reference,
            lines,
            total,
            invoice_url,
        } => {
            let lines: Vec<Value> = lines
                .iter()
                .map(|(title, price)| context! { title => title.clone(), price => price.clone() })
                .collect();
            (
                "order_confirmation",
                context! {
                    customer_name => customer_name.clone(),
                    order_reference => order_reference.clone(),
                    lines => lines,
                    total => total.clone(),
                    invoice_url => invoice_url.clone(),
                },
            )
        }
        EmailTemplate::RefundNotice {
            customer_name,
            order_reference,
            amount,
            explanation,
        } => (
            "refund_notice",
            context! {
                customer_name => customer_name.clone(),
                order_reference => order_reference.clone(),
                amount => amount.clone(),
                explanation => explanation.clone(),
            },
        ),
        EmailTemplate::ApprovalDeadline {
            first_name,
            response_subject,
            response_id,
            due_at,
            overdue,
        } => (
            "approval_deadline",
            context! {
                first_name => first_name.clone(),
                response_subject => response_subject.clone(),
                response_id => response_id.clone(),
                due_at => due_at.clone(),
                overdue => *overdue,
            },
        ),
    }
}

/// HTML-escapes `text`, then turns its line breaks into `<br>`: the result is safe markup.
fn nl2br(text: &str) -> Value {
    let escaped = HtmlEscape(text).to_string();
    Value::from_safe_string(
        escaped
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .replace('\n', "<br>\n"),
    )
}

/// Folds every run of whitespace, line breaks included, into one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nl2br_escapes_before_adding_line_breaks() {
        let html = nl2br("a <b>\r\nc\rd\ne").to_string();
        assert_eq!(html, "a &lt;b&gt;<br>\nc<br>\nd<br>\ne");
    }

    #[test]
    fn one_line_folds_line_breaks_and_runs_of_spaces() {
        assert_eq!(
            one_line("  Hello\r\nBcc: x@example.com \t there "),
            "Hello Bcc: x@example.com there"
        );
    }
}
