//! What the CRM lets a role do. The grants (which role holds which) are the composition
//! root's; this crate only names the permissions and checks them.

use nexus_kernel::Permission;

/// See every customer in the CRM.
pub const CUSTOMERS_READ_ALL: Permission = Permission::new("customers.read_all");
/// See customers assigned to oneself.
pub const CUSTOMERS_READ_ASSIGNED: Permission = Permission::new("customers.read_assigned");
/// Create customers.
pub const CUSTOMERS_CREATE: Permission = Permission::new("customers.create");
/// Edit customers one may see.
pub const CUSTOMERS_UPDATE: Permission = Permission::new("customers.update");
/// Delete customers.
pub const CUSTOMERS_DELETE: Permission = Permission::new("customers.delete");
/// Assign customers to an officer.
pub const CUSTOMERS_ASSIGN: Permission = Permission::new("customers.assign");
/// See every enquiry.
pub const ENQUIRIES_READ_ALL: Permission = Permission::new("enquiries.read_all");
/// See enquiries assigned to oneself.
pub const ENQUIRIES_READ_ASSIGNED: Permission = Permission::new("enquiries.read_assigned");
/// See one's own enquiries as a customer.
pub const ENQUIRIES_READ_OWN: Permission = Permission::new("enquiries.read_own");
/// Change the status of enquiries one may see.
pub const ENQUIRIES_UPDATE: Permission = Permission::new("enquiries.update");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[
    CUSTOMERS_READ_ALL,
    CUSTOMERS_READ_ASSIGNED,
    CUSTOMERS_CREATE,
    CUSTOMERS_UPDATE,
    CUSTOMERS_DELETE,
    CUSTOMERS_ASSIGN,
    ENQUIRIES_READ_ALL,
    ENQUIRIES_READ_ASSIGNED,
    ENQUIRIES_READ_OWN,
    ENQUIRIES_UPDATE,
];

/// `user` acting with `role`, holding this crate's permissions as the service's grants table
/// (apps/nexus/src/access.rs) gives them, for unit tests.
#[cfg(test)]
pub(crate) fn actor(user: nexus_kernel::UserId, role: nexus_kernel::Role) -> nexus_kernel::Actor {
    use nexus_kernel::Role;
    let row: &'static [Permission] = match role {
        Role::Admin | Role::Manager => &[
            CUSTOMERS_READ_ALL,
            CUSTOMERS_READ_ASSIGNED,
            CUSTOMERS_CREATE,
            CUSTOMERS_UPDATE,
            CUSTOMERS_DELETE,
            CUSTOMERS_ASSIGN,
            ENQUIRIES_READ_ALL,
            ENQUIRIES_READ_ASSIGNED,
            ENQUIRIES_UPDATE,
        ],
        Role::Cso => &[
            CUSTOMERS_READ_ASSIGNED,
            CUSTOMERS_CREATE,
            CUSTOMERS_UPDATE,
            ENQUIRIES_READ_ASSIGNED,
            ENQUIRIES_UPDATE,
        ],
        Role::Editor => &[],
        Role::Customer => &[ENQUIRIES_READ_OWN],
    };
    nexus_kernel::Actor::new(user, role, row)
}
