//! E-mail messages and the templates they are made from.

use std::fmt;

use nexus_kernel::Email;

/// A message ready to hand to a mailer.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// Stable `Message-ID` (without angle brackets), derived from the job that sends it, so
    /// a retry of the same job produces the same message.
    pub message_id: String,
    /// Recipient address.
    pub to: Email,
    /// Recipient display name.
    pub to_name: Option<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text_body: String,
    /// HTML part.
    pub html_body: String,
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies can hold one-time codes: never print them.
        f.debug_struct("EmailMessage")
            .field("message_id", &self.message_id)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// What a template produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text_body: String,
    /// HTML part (values escaped).
    pub html_body: String,
}

/// The messages the system sends, with their data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTemplate {
    /// A staff response to a customer.
    Response {
        /// Customer's name, for the greeting.
        customer_name: String,
        /// Response subject.
        subject: String,
        /// Response text (plain text; escaped in HTML).
        content: String,
    },
    /// Welcome after registration.
    Welcome {
        /// The new user's first name.
        first_name: String,
    },
    /// Someone tried to register an address that already has an account.
    AccountExists {
        /// The owner's first name.
        first_name: String,
    },
    /// A one-time code.
    OneTimeCode {
        /// The code.
        code: String,
        /// `VERIFY_EMAIL` or `LOGIN`.
        purpose: String,
        /// Minutes until it expires.
        expires_in_minutes: u32,
    },
    /// A single-use link to act on one's account (`PASSWORD_RESET`, `EMAIL_CHANGE`); the template builds
    /// the address from the storefront's base URL and the token.
    AccountLink {
        /// The recipient's given name.
        first_name: String,
        /// What the link is for.
        purpose: String,
        /// The token the link carries.
        token: String,
        /// Minutes until it expires.
        expires_in_minutes: u32,
    },
    /// The owner is told that a Google or GitHub account was linked to their account.
    IdentityLinked {
        /// The owner's given name.
        first_name: String,
        /// `Google` or `GitHub`.
        provider: String,
        /// The provider account's address, when it gave one.
        provider_email: Option<String>,
    },
    /// The old address is told that the account's sign-in address is being moved.
    EmailChangeNotice {
        /// The owner's given name.
        first_name: String,
        /// The address asked for.
        new_email: String,
    },
    /// An order confirmation (its data comes from the orders area).
    OrderConfirmation {
        /// Buyer's name.
        customer_name: String,
        /// Human order reference.
        order_reference: String,
        /// Lines: title and formatted price.
        lines: Vec<(String, String)>,
        /// Formatted total.
        total: String,
        /// Link to the invoice, if any.
        invoice_url: Option<String>,
    },
    /// Money given back to a buyer (a refund by an administrator, or a payment that could
    /// not be applied to its order).
    RefundNotice {
        /// Buyer's name.
        customer_name: String,
        /// Human order reference.
        order_reference: String,
        /// Formatted amount refunded.
        amount: String,
        /// Why, in a sentence.
        explanation: String,
    },
    /// A response waiting for approval is due soon (to its approvers) or overdue (to ADMIN).
    ApprovalDeadline {
        /// The recipient's given name.
        first_name: String,
        /// The response's subject line.
        response_subject: String,
        /// The response's id.
        response_id: String,
        /// When it is (or was) due, formatted for people.
        due_at: String,
        /// Whether the deadline has passed.
        overdue: bool,
    },
}
