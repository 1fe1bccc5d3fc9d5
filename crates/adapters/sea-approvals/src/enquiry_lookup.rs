//! The approvals' [`EnquiryLookup`], read from `enquiries` (the CRM's table) with its own
//! small mapping.

use async_trait::async_trait;
use nexus_approvals::{ApprovalsError, EnquiryLookup};
use nexus_customers::{CustomerId, EnquiryId};
use nexus_sea_support::unexpected;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use uuid::Uuid;

use crate::entities::enquiry;

/// Finds the customer an enquiry came from. Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaEnquiryLookup {
    db: DatabaseConnection,
}

impl SeaEnquiryLookup {
    /// A lookup over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl EnquiryLookup for SeaEnquiryLookup {
    async fn customer_of(&self, id: EnquiryId) -> Result<Option<CustomerId>, ApprovalsError> {
        let customer: Option<Uuid> = enquiry::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(enquiry::Column::CustomerId)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(unexpected("loading an enquiry's customer"))?;
        Ok(customer.map(CustomerId::from_uuid))
    }
}
