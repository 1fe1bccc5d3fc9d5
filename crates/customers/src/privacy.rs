//! "My data" in the CRM: the enquiries a user's export holds, and what follows the erasure
//! of their account (subscriber `unlink_erased_customer`).

use std::sync::Arc;

use async_trait::async_trait;
use nexus_identity::{AccountErased, erased_names};
use nexus_kernel::{Actor, Email, PageRequest, Unexpected, UserId};
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::{CustomerId, CustomersError, EnquirerName, Enquiry, EnquiryQuery, EnquiryService};

/// At most this many enquiries go into one export.
pub const EXPORT_LIMIT: usize = 1000;

/// The address an anonymised customer gets: unique (it carries the customer id) and in the
/// reserved `.invalid` domain, so nothing is ever delivered to it.
fn erased_customer_email(id: CustomerId) -> Result<Email, Unexpected> {
    Email::parse(&format!("erased+{}@erased.invalid", id.as_uuid().simple()))
        .map_err(Unexpected::with("an erased customer's address"))
}

impl EnquiryService {
    /// The enquiries sent from the actor's address, when their account has verified it
    /// (anyone can register any address), and those of the CRM customer linked to their
    /// account; newest first, at most [`EXPORT_LIMIT`], read a page at a time. The flag
    /// tells when there were more.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn export(&self, actor: &Actor) -> Result<(Vec<Enquiry>, bool), CustomersError> {
        let mut addresses = Vec::new();
        if let Some(me) = self.staff.find_member(actor.user_id()).await?
            && me.email_verified
        {
            addresses.push(me.email);
        }
        if let Some(customer) = self.customers.find_by_account(actor.user_id()).await?
            && !addresses.contains(&customer.email)
        {
            addresses.push(customer.email);
        }
        let mut found: Vec<Enquiry> = Vec::new();
        let mut truncated = false;
        'addresses: for email in addresses {
            let query = EnquiryQuery {
                email: Some(email),
                ..EnquiryQuery::default()
            };
            let mut page = 1;
            loop {
                let got = self
                    .enquiries
                    .list(&query, PageRequest::new(Some(page), Some(100)))
                    .await?;
                let more = got.total > u64::from(page) * 100;
                for enquiry in got.items {
                    if found.len() >= EXPORT_LIMIT {
                        truncated = true;
                        break 'addresses;
                    }
                    if !found.iter().any(|e| e.id == enquiry.id) {
                        found.push(enquiry);
                    }
                }
                if !more {
                    break;
                }
                page += 1;
            }
        }
        found.sort_by_key(|e| std::cmp::Reverse(e.created_at));
        Ok((found, truncated))
    }

    /// Unlinks the CRM customer of an erased account and anonymises its personal fields
    /// (names "Erased" "Customer", an `erased+<customer id>@erased.invalid` address, no
    /// phone), and the name and address on its enquiries; the enquiries' subject, message
    /// and status (the business's record of the conversation) and the customer's company,
    /// status, tags, officer and notes stay. Returns the customer, if one was linked.
    ///
    /// The enquiries go first, the customer last: a delivery that fails half way finds the
    /// customer still linked next time and finishes the work; once the customer is
    /// unlinked there is nothing left to do.
    ///
    /// # Errors
    /// `Conflict` when the customer or an enquiry changed meanwhile (worth another try),
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(account = %user))]
    pub async fn forget_account(&self, user: UserId) -> Result<Option<CustomerId>, CustomersError> {
        let Some(mut customer) = self.customers.find_by_account(user).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let erased_email = erased_customer_email(customer.id)?;
        let erased_name = EnquirerName::parse("Erased Customer")
            .map_err(Unexpected::with("an erased enquirer's name"))?;
        let query = EnquiryQuery {
            email: Some(customer.email.clone()),
            ..EnquiryQuery::default()
        };
        // Each pass rewrites the first page, which then no longer matches the old address.
        loop {
            let got = self
                .enquiries
                .list(&query, PageRequest::new(Some(1), Some(100)))
                .await?;
            if got.items.is_empty() {
                break;
            }
            for mut enquiry in got.items {
                let expected = enquiry.version;
                enquiry.name = erased_name.clone();
                enquiry.email = erased_email.clone();
                enquiry.version = expected + 1;
                enquiry.updated_at = now;
                self.enquiries.update(&enquiry, expected).await?;
            }
        }
        let (first, last) = erased_names()?;
        let expected = customer.version;
        customer.first_name = first;
        customer.last_name = last;
        customer.email = erased_email;
        customer.phone = None;
        customer.account_id = None;
        customer.version = expected + 1;
        customer.updated_at = now;
        // The system acts here, following the owner's erasure: the log names no person.
        let audit = nexus_kernel::AuditRecord::new(
            None,
            "customers.anonymised",
            "customer",
            customer.id,
            serde_json::json!({ "reason": "account erased" }),
            now,
        );
        self.customers.update(&customer, expected, &[audit]).await?;
        tracing::info!(customer_id = %customer.id, "customer of an erased account unlinked and anonymised");
        Ok(Some(customer.id))
    }
}

/// Unlinks and anonymises the CRM customer of an erased account (subscriber
/// `unlink_erased_customer`, on `identity.account_erased`): see
/// [`EnquiryService::forget_account`]. Running it again finds no linked customer and
/// changes nothing.
pub struct UnlinkErasedCustomer {
    enquiries: Arc<EnquiryService>,
}

impl UnlinkErasedCustomer {
    /// Builds the subscriber over the enquiry service.
    #[must_use]
    pub fn new(enquiries: Arc<EnquiryService>) -> Self {
        Self { enquiries }
    }
}

#[async_trait]
impl Subscriber for UnlinkErasedCustomer {
    fn name(&self) -> &'static str {
        "unlink_erased_customer"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<AccountErased>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let AccountErased { user_id } = delivery.event.decode()?;
        let customer = self
            .enquiries
            .forget_account(user_id)
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))?;
        tracing::info!(user_id = %user_id, unlinked = customer.is_some(), "erased account matched against the CRM");
        Ok(())
    }
}
