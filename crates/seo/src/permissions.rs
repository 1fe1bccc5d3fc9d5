//! What the SEO context lets a role do. The grants (which role holds which) are the
//! composition root's (apps/nexus/src/access.rs); this crate only names and checks them.

use nexus_kernel::Permission;

/// Read the site report and each item's stored findings.
pub const SEO_READ: Permission = Permission::new("seo.read");
/// Ask for an audit of the whole site.
pub const SEO_SCAN: Permission = Permission::new("seo.scan");

/// List, create, change and delete redirect rules.
pub const SEO_REDIRECTS: Permission = Permission::new("seo.redirects");

/// Every permission this crate checks.
pub const ALL: &[Permission] = &[SEO_READ, SEO_SCAN, SEO_REDIRECTS];
