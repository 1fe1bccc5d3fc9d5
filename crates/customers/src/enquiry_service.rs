use std::sync::Arc;

use crate::{CustomerId, EnquiryId};
use nexus_kernel::{Actor, Clock, Page, PageRequest, PersonName, UserId};

use crate::permissions;
use crate::{
    Customer, CustomerRepository, CustomerStatus, CustomersError, Enquiry, EnquiryQuery,
    EnquiryRepository, EnquiryStatus, NewEnquiry, StaffDirectory, Tags,
};

/// Enquiries: intake from the public, routing to an officer, and their life cycle.
pub struct EnquiryService {
    pub(crate) enquiries: Arc<dyn EnquiryRepository>,
    pub(crate) customers: Arc<dyn CustomerRepository>,
    pub(crate) staff: Arc<dyn StaffDirectory>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl EnquiryService {
    /// Builds the service from its ports.
    #[must_use]
    pub fn new(
        enquiries: Arc<dyn EnquiryRepository>,
        customers: Arc<dyn CustomerRepository>,
        staff: Arc<dyn StaffDirectory>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            enquiries,
            customers,
            staff,
            clock,
        }
    }

    /// Takes an enquiry from the public. It is linked to the customer with that e-mail, or
    /// to a new LEAD customer, and routed to an officer: the customer's own officer when
    /// they are active staff, otherwise the active CSO with the fewest open enquiries.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn submit(&self, input: NewEnquiry) -> Result<Enquiry, CustomersError> {
        let now = self.clock.now();
        let (customer_id, officer) = self.link_customer(&input).await?;
        let enquiry = Enquiry {
            id: EnquiryId::new(),
            customer_id,
            name: input.name,
            email: input.email,
            subject: input.subject,
            message: input.message,
            product_id: input.product_id,
            status: EnquiryStatus::Open,
            assigned_to: Some(officer),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        self.enquiries.insert(&enquiry).await?;
        tracing::info!(enquiry_id = %enquiry.id, customer_id = %customer_id, assigned = ?officer, "enquiry received");
        Ok(enquiry)
    }

    async fn link_customer(
        &self,
        input: &NewEnquiry,
    ) -> Result<(CustomerId, UserId), CustomersError> {
        // Two enquiries from a new address can race to create its customer: the loser of
        // the insert finds the winner's record on the second pass.
        for _ in 0..2 {
            if let Some(existing) = self.customers.find_by_email(&input.email).await? {
                let officer = match existing.assigned_to {
                    Some(id) if self.is_active_staff(id).await? => id,
                    _ => self.least_loaded().await?,
                };
                return Ok((existing.id, officer));
            }
            let officer = self.least_loaded().await?;
            let (first, last) = input.name.split();
            let now = self.clock.now();
            let lead = Customer {
                id: CustomerId::new(),
                first_name: person(&first)?,
                last_name: person(&last)?,
                email: input.email.clone(),
                phone: None,
                company: None,
                status: CustomerStatus::Lead,
                tags: Tags::default(),
                assigned_to: Some(officer),
                // A public enquiry has no staff author: the lead is recorded as created by
                // the officer it is routed to.
                created_by: officer,
                created_at: now,
                updated_at: now,
                version: 1,
                account_id: crate::service::matching_account(
                    &*self.staff,
                    &*self.customers,
                    &input.email,
                    None,
                )
                .await?,
            };
            match self.customers.insert(&lead, &[]).await {
                Ok(()) => return Ok((lead.id, officer)),
                Err(CustomersError::EmailTaken) => {}
                Err(e) => return Err(e),
            }
        }
        Err(nexus_kernel::Unexpected::msg(
            "customer for enquiry vanished between insert and lookup",
        )
        .into())
    }

    async fn least_loaded(&self) -> Result<UserId, CustomersError> {
        self.enquiries
            .least_loaded_officer()
            .await?
            .ok_or(CustomersError::NoStaffAvailable)
    }

    async fn is_active_staff(&self, id: UserId) -> Result<bool, CustomersError> {
        Ok(self
            .staff
            .find_member(id)
            .await?
            .is_some_and(|m| m.is_active && m.role.works_the_crm()))
    }

    /// One page of the enquiries the actor may see.
    ///
    /// # Errors
    /// `Forbidden` for roles without enquiry access, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn list(
        &self,
        actor: &Actor,
        mut query: EnquiryQuery,
        page: PageRequest,
    ) -> Result<Page<Enquiry>, CustomersError> {
        query.visible_to = scope(actor)?;
        self.enquiries.list(&query, page).await
    }

    /// The signed-in customer's own enquiries (by their account's e-mail). Anyone can
    /// register any address, so only an account that has verified its address sees what
    /// was sent from it.
    ///
    /// # Errors
    /// `Forbidden` for staff-only accounts, `EmailUnverified` for an account that has not
    /// verified its address, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn mine(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Enquiry>, CustomersError> {
        if !actor.can(permissions::ENQUIRIES_READ_OWN) {
            return Err(CustomersError::Forbidden);
        }
        let Some(me) = self.staff.find_member(actor.user_id()).await? else {
            return Err(CustomersError::Forbidden);
        };
        if !me.email_verified {
            return Err(CustomersError::EmailUnverified);
        }
        let query = EnquiryQuery {
            email: Some(me.email),
            ..EnquiryQuery::default()
        };
        self.enquiries.list(&query, page).await
    }

    /// One enquiry the actor may see.
    ///
    /// # Errors
    /// `Forbidden`, `EnquiryNotFound` (absent or out of scope), `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), enquiry_id = %id))]
    pub async fn get(&self, actor: &Actor, id: EnquiryId) -> Result<Enquiry, CustomersError> {
        let visible_to = scope(actor)?;
        match self.enquiries.find(id).await? {
            Some(e) if visible_to.is_none() || e.assigned_to == visible_to => Ok(e),
            _ => Err(CustomersError::EnquiryNotFound(id)),
        }
    }

    /// Moves an enquiry to `status` (OPEN -> ANSWERED -> CLOSED; reopening allowed).
    ///
    /// # Errors
    /// `Forbidden`, `EnquiryNotFound`, `InvalidEnquiryTransition`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), enquiry_id = %id, to = %status))]
    pub async fn set_status(
        &self,
        actor: &Actor,
        id: EnquiryId,
        status: EnquiryStatus,
        expected_version: Option<i64>,
    ) -> Result<Enquiry, CustomersError> {
        let mut enquiry = self.get(actor, id).await?;
        if !actor.can(permissions::ENQUIRIES_UPDATE) {
            return Err(CustomersError::Forbidden);
        }
        let expected = enquiry.version;
        if expected_version.is_some_and(|v| v != expected) {
            return Err(CustomersError::Conflict);
        }
        if !enquiry.status.can_become(status) {
            return Err(CustomersError::InvalidEnquiryTransition {
                from: enquiry.status,
                to: status,
            });
        }
        if enquiry.status == status {
            return Ok(enquiry);
        }
        enquiry.status = status;
        enquiry.version = expected + 1;
        enquiry.updated_at = self.clock.now();
        self.enquiries.update(&enquiry, expected).await?;
        Ok(enquiry)
    }
}

fn person(raw: &str) -> Result<PersonName, CustomersError> {
    // Enquirer names are up to 200 characters; a customer's name parts up to 100.
    let clipped: String = raw.chars().take(PersonName::MAX_CHARS).collect();
    PersonName::parse(&clipped).map_err(|e| {
        nexus_kernel::Unexpected::new("deriving a customer name from an enquiry", e).into()
    })
}

fn scope(actor: &Actor) -> Result<Option<UserId>, CustomersError> {
    if actor.can(permissions::ENQUIRIES_READ_ALL) {
        Ok(None)
    } else if actor.can(permissions::ENQUIRIES_READ_ASSIGNED) {
        Ok(Some(actor.user_id()))
    } else {
        Err(CustomersError::Forbidden)
    }
}

#[cfg(test)]
#[path = "enquiry_service_tests.rs"]
mod tests;
