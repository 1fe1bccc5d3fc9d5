//! What the content context lets a role do. The grants (which role holds which) are the
//! composition root's (apps/nexus/src/access.rs); this crate only names and checks them.

use nexus_kernel::Permission;

/// Create, edit, version, restore, delete and preview pages.
pub const CONTENT_MANAGE: Permission = Permission::new("content.manage");
/// Publish, unpublish and schedule pages.
pub const CONTENT_PUBLISH: Permission = Permission::new("content.publish");
/// Read the content audit trail.
pub const CONTENT_READ_AUDIT: Permission = Permission::new("content.read_audit");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[CONTENT_MANAGE, CONTENT_PUBLISH, CONTENT_READ_AUDIT];

/// `user` acting with `role`, holding this crate's permissions as the app's grants table
/// gives them, for unit tests.
#[cfg(test)]
pub(crate) fn actor(user: nexus_kernel::UserId, role: nexus_kernel::Role) -> nexus_kernel::Actor {
    use nexus_kernel::Role;
    let row: &'static [Permission] = match role {
        Role::Admin | Role::Manager | Role::Editor => ALL,
        Role::Cso | Role::Customer => &[],
    };
    nexus_kernel::Actor::new(user, role, row)
}
