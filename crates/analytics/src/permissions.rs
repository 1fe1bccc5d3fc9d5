//! What page metrics let a role do. The grants are the composition root's
//! (apps/nexus/src/access.rs); this crate only names the permission and checks it.

use nexus_kernel::Permission;

/// Read the page-metrics reports (top pages, referrers, trend, funnel, campaigns).
pub const ANALYTICS_READ: Permission = Permission::new("analytics.read");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[ANALYTICS_READ];
