//! What the feedback context lets a role do. The grants are the composition root's
//! (apps/nexus/src/access.rs); this crate only names the permission and checks it.

use nexus_kernel::Permission;

/// Read the moderation queues of site feedback and reviews, and publish or hide them.
pub const FEEDBACK_MODERATE: Permission = Permission::new("feedback.moderate");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[FEEDBACK_MODERATE];
