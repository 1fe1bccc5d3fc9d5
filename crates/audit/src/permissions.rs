//! The audit log's permissions; the composition root grants them to roles.

use nexus_kernel::Permission;

/// Read the audit log.
pub const AUDIT_READ: Permission = Permission::new("audit.read");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[AUDIT_READ];
