//! What the outbox's admin lets a role do. The grants are the composition root's.

use nexus_kernel::Permission;

/// See and retry background work (event deliveries).
pub const JOBS_MANAGE: Permission = Permission::new("jobs.manage");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[JOBS_MANAGE];

/// `user` acting with `role`, holding this crate's permissions as the service's grants table
/// (apps/nexus/src/access.rs) gives them, for unit tests.
#[cfg(test)]
pub(crate) fn actor(user: nexus_kernel::UserId, role: nexus_kernel::Role) -> nexus_kernel::Actor {
    use nexus_kernel::Role;
    let row: &'static [Permission] = match role {
        Role::Admin => &[JOBS_MANAGE],
        Role::Manager | Role::Cso | Role::Editor | Role::Customer => &[],
    };
    nexus_kernel::Actor::new(user, role, row)
}
