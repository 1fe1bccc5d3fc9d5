//! What the catalog lets a role do. The grants (which role holds which) are the composition
//! root's; this crate only names the permissions and checks them.

use nexus_kernel::Permission;

/// Create, edit, publish, archive and delete products and upload their files.
pub const PRODUCTS_MANAGE: Permission = Permission::new("products.manage");
/// See products that are not published (drafts and archived ones) and their stored files.
pub const PRODUCTS_READ_UNPUBLISHED: Permission = Permission::new("products.read_unpublished");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[PRODUCTS_MANAGE, PRODUCTS_READ_UNPUBLISHED];

/// `user` acting with `role`, holding this crate's permissions as the service's grants table
/// (apps/nexus/src/access.rs) gives them, for unit tests.
#[cfg(test)]
pub(crate) fn actor(user: nexus_kernel::UserId, role: nexus_kernel::Role) -> nexus_kernel::Actor {
    use nexus_kernel::Role;
    let row: &'static [Permission] = match role {
        Role::Admin | Role::Manager => &[PRODUCTS_MANAGE, PRODUCTS_READ_UNPUBLISHED],
        Role::Cso | Role::Editor | Role::Customer => &[],
    };
    nexus_kernel::Actor::new(user, role, row)
}
