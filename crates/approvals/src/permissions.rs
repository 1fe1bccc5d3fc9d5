//! What the approval workflow lets a role do. The grants (which role holds which) are the
//! composition root's; this crate only names the permissions and checks them.

use nexus_kernel::Permission;

/// Draft, edit and submit responses to customers one may see.
pub const RESPONSES_DRAFT: Permission = Permission::new("responses.draft");
/// See every response.
pub const RESPONSES_READ_ALL: Permission = Permission::new("responses.read_all");
/// Approve or reject responses (never one's own).
pub const RESPONSES_REVIEW: Permission = Permission::new("responses.review");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[RESPONSES_DRAFT, RESPONSES_READ_ALL, RESPONSES_REVIEW];

/// `user` acting with `role`, holding this crate's permissions (and the CRM's read ones the
/// service checks through `CustomerService`) as the service's grants table
/// (apps/nexus/src/access.rs) gives them, for unit tests.
#[cfg(test)]
pub(crate) fn actor(user: nexus_kernel::UserId, role: nexus_kernel::Role) -> nexus_kernel::Actor {
    use nexus_customers::permissions::{CUSTOMERS_READ_ALL, CUSTOMERS_READ_ASSIGNED};
    use nexus_kernel::Role;
    let row: &'static [Permission] = match role {
        Role::Admin | Role::Manager => &[
            RESPONSES_DRAFT,
            RESPONSES_READ_ALL,
            RESPONSES_REVIEW,
            CUSTOMERS_READ_ALL,
            CUSTOMERS_READ_ASSIGNED,
        ],
        Role::Cso => &[RESPONSES_DRAFT, CUSTOMERS_READ_ASSIGNED],
        Role::Editor | Role::Customer => &[],
    };
    nexus_kernel::Actor::new(user, role, row)
}
