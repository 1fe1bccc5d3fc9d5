use std::sync::Arc;

use crate::CustomerId;
use nexus_kernel::{Actor, AuditRecord, Clock, Page, PageRequest, Permission, summarize_values};
use serde_json::{Value, json};

use crate::permissions;
use crate::{
    Customer, CustomerQuery, CustomerRepository, CustomerStatus, CustomersError, NewCustomer,
    StaffDirectory, UpdateCustomer,
};

/// The customer CRM's rules: who sees, edits, deletes and assigns which customers.
pub struct CustomerService {
    customers: Arc<dyn CustomerRepository>,
    staff: Arc<dyn StaffDirectory>,
    clock: Arc<dyn Clock>,
}

impl CustomerService {
    /// Builds the service from its ports.
    #[must_use]
    pub fn new(
        customers: Arc<dyn CustomerRepository>,
        staff: Arc<dyn StaffDirectory>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            customers,
            staff,
            clock,
        }
    }

    /// One page of the customers the actor may see.
    ///
    /// # Errors
    /// `Forbidden` for non-staff, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn list(
        &self,
        actor: &Actor,
        mut query: CustomerQuery,
        page: PageRequest,
    ) -> Result<Page<Customer>, CustomersError> {
        query.visible_to = scope(actor)?;
        self.customers.list(&query, page).await
    }

    /// One customer the actor may see.
    ///
    /// # Errors
    /// `Forbidden` for non-staff, `NotFound` when absent or out of the actor's scope.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %id))]
    pub async fn get(&self, actor: &Actor, id: CustomerId) -> Result<Customer, CustomersError> {
        self.load_visible(actor, id).await
    }

    /// Creates a customer, assigned to its creator unless the actor may assign and names
    /// someone else.
    ///
    /// # Errors
    /// `Forbidden`, `InvalidAssignee`, `EmailTaken`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn create(
        &self,
        actor: &Actor,
        input: NewCustomer,
    ) -> Result<Customer, CustomersError> {
        require(actor, permissions::CUSTOMERS_CREATE)?;
        let assignee = match input.assigned_to {
            None => actor.user_id(),
            Some(id) if id == actor.user_id() => id,
            Some(id) => {
                require(actor, permissions::CUSTOMERS_ASSIGN)?;
                self.check_assignee(id).await?;
                id
            }
        };
        let now = self.clock.now();
        let account_id = self.matching_account(&input.email, None).await?;
        let customer = Customer {
            id: CustomerId::new(),
            first_name: input.first_name,
            last_name: input.last_name,
            email: input.email,
            phone: input.phone,
            company: input.company,
            status: input.status.unwrap_or(CustomerStatus::Lead),
            tags: input.tags,
            assigned_to: Some(assignee),
            created_by: actor.user_id(),
            created_at: now,
            updated_at: now,
            version: 1,
            account_id,
        };
        let audit = AuditRecord::new(
            Some(actor),
            "customers.created",
            "customer",
            customer.id,
            summarize_values(None, &audit_view(&customer)),
            now,
        );
        self.customers.insert(&customer, &[audit]).await?;
        tracing::info!(customer_id = %customer.id, "customer created");
        Ok(customer)
    }

    /// Applies a partial change if the customer is still at `expected_version`.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict` (stale version), `EmailTaken`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: CustomerId,
        expected_version: i64,
        change: UpdateCustomer,
    ) -> Result<Customer, CustomersError> {
        require(actor, permissions::CUSTOMERS_UPDATE)?;
        let mut customer = self.load_visible(actor, id).await?;
        if customer.version != expected_version {
            return Err(CustomersError::Conflict);
        }
        let before = customer.clone();
        if let Some(v) = change.first_name {
            customer.first_name = v;
        }
        if let Some(v) = change.last_name {
            customer.last_name = v;
        }
        if let Some(v) = change.email {
            if v != customer.email {
                // The link follows the address: the account with the new address, verified
                // and free, or none.
                customer.account_id = self.matching_account(&v, Some(customer.id)).await?;
            }
            customer.email = v;
        }
        if let Some(v) = change.phone {
            customer.phone = v;
        }
        if let Some(v) = change.company {
            customer.company = v;
        }
        if let Some(v) = change.status {
            customer.status = v;
        }
        if let Some(v) = change.tags {
            customer.tags = v;
        }
        self.save(
            Some(actor),
            "customers.updated",
            &before,
            &mut customer,
            expected_version,
        )
        .await?;
        Ok(customer)
    }

    /// Deletes a customer who has no history. One with responses or enquiries is refused
    /// (`HasHistory`): the audit trail of what was sent to them, and who approved it,
    /// outlives any tidy-up, so such customers are made `INACTIVE` or `CHURNED` instead.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `HasHistory`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %id))]
    pub async fn delete(&self, actor: &Actor, id: CustomerId) -> Result<(), CustomersError> {
        let customer = self.load_visible(actor, id).await?;
        require(actor, permissions::CUSTOMERS_DELETE)?;
        let audit = AuditRecord::new(
            Some(actor),
            "customers.deleted",
            "customer",
            id,
            json!({ "before": audit_view(&customer) }),
            self.clock.now(),
        );
        if !self.customers.delete(id, &[audit]).await? {
            return Err(CustomersError::NotFound(id));
        }
        tracing::info!("customer deleted");
        Ok(())
    }

    /// Assigns a customer to an active staff member.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidAssignee`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %id, assignee = %assignee))]
    pub async fn assign(
        &self,
        actor: &Actor,
        id: CustomerId,
        assignee: nexus_kernel::UserId,
    ) -> Result<Customer, CustomersError> {
        require(actor, permissions::CUSTOMERS_ASSIGN)?;
        let mut customer = self.load_visible(actor, id).await?;
        self.check_assignee(assignee).await?;
        if customer.assigned_to == Some(assignee) {
            return Ok(customer);
        }
        let expected = customer.version;
        let before = customer.clone();
        customer.assigned_to = Some(assignee);
        self.save(
            Some(actor),
            "customers.assigned",
            &before,
            &mut customer,
            expected,
        )
        .await?;
        tracing::info!("customer assigned");
        Ok(customer)
    }

    /// Links the buyer account `user` to a customer the actor may edit. Linking the account
    /// already linked is a no-op.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidAccount` (no such account, or not a CUSTOMER one),
    /// `AccountLinked` (linked to another customer), `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %id, account = %user))]
    pub async fn link_account(
        &self,
        actor: &Actor,
        id: CustomerId,
        user: nexus_kernel::UserId,
    ) -> Result<Customer, CustomersError> {
        require(actor, permissions::CUSTOMERS_UPDATE)?;
        let mut customer = self.load_visible(actor, id).await?;
        match self.staff.find_member(user).await? {
            Some(m) if m.role == nexus_kernel::Role::Customer => {}
            _ => return Err(CustomersError::InvalidAccount),
        }
        if customer.account_id == Some(user) {
            return Ok(customer);
        }
        if let Some(other) = self.customers.find_by_account(user).await?
            && other.id != id
        {
            return Err(CustomersError::AccountLinked);
        }
        let expected = customer.version;
        let before = customer.clone();
        customer.account_id = Some(user);
        self.save(
            Some(actor),
            "customers.account_linked",
            &before,
            &mut customer,
            expected,
        )
        .await?;
        tracing::info!("account linked to customer");
        Ok(customer)
    }

    /// Removes the link between a customer the actor may edit and its buyer account; a
    /// customer with no link is answered as it is.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %id))]
    pub async fn unlink_account(
        &self,
        actor: &Actor,
        id: CustomerId,
    ) -> Result<Customer, CustomersError> {
        require(actor, permissions::CUSTOMERS_UPDATE)?;
        let mut customer = self.load_visible(actor, id).await?;
        if customer.account_id.is_none() {
            return Ok(customer);
        }
        let expected = customer.version;
        let before = customer.clone();
        customer.account_id = None;
        self.save(
            Some(actor),
            "customers.account_unlinked",
            &before,
            &mut customer,
            expected,
        )
        .await?;
        tracing::info!("account unlinked from customer");
        Ok(customer)
    }

    /// Links the buyer account `user`, which has just verified `email`, to the customer with
    /// that address, when the account is still an active CUSTOMER account with that verified
    /// address, the customer has no link and the account is linked nowhere else. Answers the
    /// customer linked, `None` when nothing was to be done. Run by the system (the
    /// `link_customer_account` subscriber), not on behalf of a caller.
    ///
    /// # Errors
    /// `Conflict` when the customer changed meanwhile (worth another try), `Unexpected`.
    #[tracing::instrument(skip_all, fields(account = %user))]
    pub async fn link_verified_account(
        &self,
        user: nexus_kernel::UserId,
        email: &nexus_kernel::Email,
    ) -> Result<Option<Customer>, CustomersError> {
        if self.staff.find_verified_customer(email).await? != Some(user) {
            return Ok(None);
        }
        let Some(mut customer) = self.customers.find_by_email(email).await? else {
            return Ok(None);
        };
        if customer.account_id.is_some() || self.customers.find_by_account(user).await?.is_some() {
            return Ok(None);
        }
        let expected = customer.version;
        let before = customer.clone();
        customer.account_id = Some(user);
        self.save(
            None,
            "customers.account_linked",
            &before,
            &mut customer,
            expected,
        )
        .await?;
        tracing::info!(customer_id = %customer.id, "verified account linked to customer");
        Ok(Some(customer))
    }

    async fn matching_account(
        &self,
        email: &nexus_kernel::Email,
        customer: Option<CustomerId>,
    ) -> Result<Option<nexus_kernel::UserId>, CustomersError> {
        matching_account(&*self.staff, &*self.customers, email, customer).await
    }

    async fn load_visible(
        &self,
        actor: &Actor,
        id: CustomerId,
    ) -> Result<Customer, CustomersError> {
        let visible_to = scope(actor)?;
        match self.customers.find(id).await? {
            Some(c) if visible_to.is_none() || c.assigned_to == visible_to => Ok(c),
            _ => Err(CustomersError::NotFound(id)),
        }
    }

    async fn check_assignee(&self, id: nexus_kernel::UserId) -> Result<(), CustomersError> {
        match self.staff.find_member(id).await? {
            Some(m) if m.is_active && m.role.works_the_crm() => Ok(()),
            _ => Err(CustomersError::InvalidAssignee),
        }
    }

    /// Saves `customer` if still at `expected`, with the audit record of `action` by
    /// `actor` (`None`: the system) going from `before`.
    async fn save(
        &self,
        actor: Option<&Actor>,
        action: &str,
        before: &Customer,
        customer: &mut Customer,
        expected: i64,
    ) -> Result<(), CustomersError> {
        customer.version = expected + 1;
        customer.updated_at = self.clock.now();
        let audit = AuditRecord::new(
            actor,
            action,
            "customer",
            customer.id,
            summarize_values(Some(&audit_view(before)), &audit_view(customer)),
            customer.updated_at,
        );
        self.customers.update(customer, expected, &[audit]).await
    }
}

/// What the audit log shows of a customer.
fn audit_view(customer: &Customer) -> Value {
    json!({
        "firstName": customer.first_name.as_str(),
        "lastName": customer.last_name.as_str(),
        "email": customer.email.as_str(),
        "phone": customer.phone,
        "company": customer.company,
        "status": customer.status,
        "tags": customer.tags,
        "assignedTo": customer.assigned_to.map(|u| u.to_string()),
        "accountId": customer.account_id.map(|u| u.to_string()),
    })
}

/// The account a customer with `email` links to: the active CUSTOMER account with that
/// verified address, unless a customer other than `customer` is linked to it. An unverified
/// address never links, since anyone can register any address.
pub(crate) async fn matching_account(
    staff: &dyn StaffDirectory,
    customers: &dyn CustomerRepository,
    email: &nexus_kernel::Email,
    customer: Option<CustomerId>,
) -> Result<Option<nexus_kernel::UserId>, CustomersError> {
    let Some(user) = staff.find_verified_customer(email).await? else {
        return Ok(None);
    };
    match customers.find_by_account(user).await? {
        Some(other) if Some(other.id) != customer => Ok(None),
        _ => Ok(Some(user)),
    }
}

/// Which customers the actor may see: `None` for all, `Some(me)` for an officer's own.
pub(crate) fn scope(actor: &Actor) -> Result<Option<nexus_kernel::UserId>, CustomersError> {
    if actor.can(permissions::CUSTOMERS_READ_ALL) {
        Ok(None)
    } else if actor.can(permissions::CUSTOMERS_READ_ASSIGNED) {
        Ok(Some(actor.user_id()))
    } else {
        Err(CustomersError::Forbidden)
    }
}

fn require(actor: &Actor, permission: Permission) -> Result<(), CustomersError> {
    if actor.can(permission) {
        Ok(())
    } else {
        Err(CustomersError::Forbidden)
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
