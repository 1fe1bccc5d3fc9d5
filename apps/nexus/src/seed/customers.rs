//! About 200 CRM customers, spread across the officers, in every status.

use nexus_customers::{CompanyName, CustomerStatus, CustomersError, NewCustomer, Phone, Tags};
use nexus_kernel::{Email, PersonName};

use super::names::roster;
use super::{Context as _, Seeder, Tally, rng};
use crate::cli::CliError;

/// Labels the CRM uses for demo customers (besides `demo` on every one).
const TAGS: [&str; 6] = ["enterprise", "smb", "startup", "education", "retail", "vip"];

/// Creates every roster customer whose address is not taken yet, as the manager, each
/// assigned to one of the officers in turn.
pub(super) async fn seed(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let staff = seeder.staff()?.clone();
    let manager = staff.manager();
    let mut rng = rng("customer-details");
    let mut tally = Tally::default();
    for (i, person) in roster().into_iter().enumerate() {
        let status = match rng.u8(..10) {
            0..=2 => CustomerStatus::Lead,
            3..=7 => CustomerStatus::Active,
            _ => CustomerStatus::Inactive,
        };
        let tag = TAGS[rng.usize(..TAGS.len())];
        let input = NewCustomer {
            first_name: PersonName::parse(person.first).ctx("a customer name")?,
            last_name: PersonName::parse(person.last).ctx("a customer name")?,
            email: Email::parse(&person.email).ctx("a customer address")?,
            phone: person
                .phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .ctx("a customer phone")?,
            company: person
                .company
                .map(CompanyName::parse)
                .transpose()
                .ctx("a company")?,
            status: Some(status),
            tags: Tags::parse(&["demo", tag]).ctx("customer tags")?,
            assigned_to: Some(staff.officers[i % staff.officers.len()]),
        };
        match seeder.state.customers.create(&manager, input).await {
            Ok(_) => tally.created += 1,
            Err(CustomersError::EmailTaken) => tally.skipped += 1,
            Err(e) => return Err(e).ctx("creating a customer"),
        }
    }
    Ok(tally)
}
