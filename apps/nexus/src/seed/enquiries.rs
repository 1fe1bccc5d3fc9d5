//! Enquiries from the public in every status, and responses to them in every state of the
//! approval workflow (drafted by the customer's officer, reviewed by the manager).

use nexus_approvals::{NewResponse, ResponseContent, ResponseSubject, ReviewNotes};
use nexus_customers::{
    EnquirerName, EnquiryMessage, EnquiryQuery, EnquiryStatus, EnquirySubject, NewEnquiry,
};
use nexus_kernel::{Email, PageRequest, Role};

use super::names::roster;
use super::{Context as _, Seeder, Tally, rng};
use crate::cli::CliError;

/// Every how many roster customers one sends an enquiry.
const EVERY: usize = 4;

/// Enquiry subjects and the question behind each.
const TOPICS: [(&str, &str); 8] = [
    (
        "Bulk licence for our team",
        "We are a team of 25. Is there a volume discount or a team licence for your templates?",
    ),
    (
        "Invoice with our GSTIN",
        "Could you reissue last month's invoice with our company GSTIN on it?",
    ),
    (
        "Download link expired",
        "The download link in my e-mail has expired before I could use it. Can you help?",
    ),
    (
        "Custom branding request",
        "Can the planner be customised with our logo and colours? What would it cost?",
    ),
    (
        "Payment failed but money debited",
        "My UPI payment failed but the amount was debited from my account.",
    ),
    (
        "Question about the Rust handbook",
        "Does the handbook cover actix-web and SeaORM, and is there a sample project?",
    ),
    (
        "Partnership enquiry",
        "We run a coworking space in Pune and would like to offer your kits to our members.",
    ),
    (
        "Refund request",
        "I bought the wrong product by mistake. Can I get a refund or an exchange?",
    ),
];

/// Where each answered enquiry's response ends up, in turn.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Draft,
    Pending,
    Approved,
    Sent,
    Rejected,
}

const OUTCOMES: [Outcome; 6] = [
    Outcome::Draft,
    Outcome::Pending,
    Outcome::Approved,
    Outcome::Sent,
    Outcome::Rejected,
    Outcome::Sent,
];

/// How many enquiries get a response; of the rest, every other one is closed.
const ANSWERED: usize = 30;

/// Submits the demo enquiries and works them, unless the first one is already there.
pub(super) async fn seed(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let staff = seeder.staff()?.clone();
    let manager = staff.manager();
    let senders: Vec<_> = roster().into_iter().step_by(EVERY).collect();
    let first = Email::parse(&senders[0].email).ctx("an enquirer address")?;
    let existing = seeder
        .state
        .enquiries
        .list(
            &manager,
            EnquiryQuery {
                email: Some(first),
                ..EnquiryQuery::default()
            },
            PageRequest::new(Some(1), Some(1)),
        )
        .await
        .ctx("looking for the demo enquiries")?;
    if existing.total > 0 {
        return Ok(Tally {
            created: 0,
            skipped: senders.len(),
        });
    }
    let mut rng = rng("enquiries");
    let mut tally = Tally::default();
    for (i, person) in senders.iter().enumerate() {
        let (subject, message) = TOPICS[rng.usize(..TOPICS.len())];
        let product_id = (rng.u8(..3) == 0 && !seeder.products.is_empty())
            .then(|| seeder.products[rng.usize(..seeder.products.len())].id);
        let enquiry = seeder
            .state
            .enquiries
            .submit(NewEnquiry {
                name: EnquirerName::parse(&person.full_name()).ctx("an enquirer name")?,
                email: Email::parse(&person.email).ctx("an enquirer address")?,
                subject: EnquirySubject::parse(subject).ctx("an enquiry subject")?,
                message: EnquiryMessage::parse(message).ctx("an enquiry message")?,
                product_id,
            })
            .await
            .ctx("submitting an enquiry")?;
        tally.created += 1;
        if i < ANSWERED {
            let officer = enquiry
                .assigned_to
                .ok_or_else(|| CliError::Refused("seed: an enquiry was not routed".into()))?;
            let author = crate::access::actor(officer, Role::Cso);
            let response = seeder
                .state
                .approvals
                .draft(
                    &author,
                    NewResponse {
                        customer_id: enquiry.customer_id,
                        enquiry_id: Some(enquiry.id),
                        subject: ResponseSubject::parse(&format!("Re: {subject}"))
                            .ctx("a response subject")?,
                        content: ResponseContent::parse(&format!(
                            "Dear {},\n\nThank you for writing to us about \"{subject}\". \
                             We have looked into it and will take care of it within two \
                             working days.\n\nWarm regards,\nCustomer Success, Nexus",
                            person.first
                        ))
                        .ctx("a response")?,
                    },
                )
                .await
                .ctx("drafting a response")?;
            let approvals = &seeder.state.approvals;
            let id = response.id();
            match OUTCOMES[i % OUTCOMES.len()] {
                Outcome::Draft => {}
                Outcome::Pending => {
                    approvals.submit(&author, id).await.ctx("submitting")?;
                }
                Outcome::Approved => {
                    approvals.submit(&author, id).await.ctx("submitting")?;
                    let notes = ReviewNotes::parse("Looks good.").ctx("notes")?;
                    approvals
                        .approve(&manager, id, Some(notes))
                        .await
                        .ctx("approving")?;
                }
                Outcome::Sent => {
                    approvals.submit(&author, id).await.ctx("submitting")?;
                    approvals
                        .approve(&manager, id, None)
                        .await
                        .ctx("approving")?;
                    approvals.mark_sent(id).await.ctx("sending")?;
                }
                Outcome::Rejected => {
                    approvals.submit(&author, id).await.ctx("submitting")?;
                    let notes = ReviewNotes::parse("Please give the customer a concrete date.")
                        .ctx("notes")?;
                    approvals
                        .reject(&manager, id, notes)
                        .await
                        .ctx("rejecting")?;
                }
            }
        } else if i % 2 == 0 {
            seeder
                .state
                .enquiries
                .set_status(&manager, enquiry.id, EnquiryStatus::Closed, None)
                .await
                .ctx("closing an enquiry")?;
        }
    }
    Ok(tally)
}
