//! What handlers share: the domain services and the database handle for readiness.

use std::sync::Arc;

use nexus_customers::CustomerService;
use nexus_identity::IdentityService;
use nexus_sea_store::DatabaseConnection;

/// Shared application state, built once by the composition root.
pub struct AppState {
    /// Identity and access.
    pub identity: Arc<IdentityService>,
    /// The customer CRM.
    pub customers: Arc<CustomerService>,
    /// The database, for the readiness probe only.
    pub db: DatabaseConnection,
}
