//! What the marketplace's orders let a role do beyond a buyer's own orders (which every
//! signed-in user may use without a permission). The grants are the composition root's.

use nexus_kernel::Permission;

/// See every buyer's orders, invoices, credit notes and refunds.
pub const ORDERS_READ_ALL: Permission = Permission::new("orders.read_all");
/// Refund an order (money leaves the business).
pub const ORDERS_REFUND: Permission = Permission::new("orders.refund");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[ORDERS_READ_ALL, ORDERS_REFUND];

/// `user` acting with `role`, holding this crate's permissions as the service's grants table
/// (apps/nexus/src/access.rs) gives them, for unit tests.
#[cfg(test)]
pub(crate) fn actor(user: nexus_kernel::UserId, role: nexus_kernel::Role) -> nexus_kernel::Actor {
    use nexus_kernel::Role;
    let row: &'static [Permission] = match role {
        Role::Admin => &[ORDERS_READ_ALL, ORDERS_REFUND],
        Role::Manager => &[ORDERS_READ_ALL],
        Role::Cso | Role::Editor | Role::Customer => &[],
    };
    nexus_kernel::Actor::new(user, role, row)
}
