//! The content context's ids.

nexus_kernel::typed_id!(
    /// Identifies a CMS page.
    pub PageId
);

nexus_kernel::typed_id!(
    /// Identifies one entry of the content audit trail.
    pub AuditEntryId
);

nexus_kernel::typed_id!(
    /// Identifies a team member.
    pub TeamMemberId
);

nexus_kernel::typed_id!(
    /// Identifies a blog post.
    pub PostId
);
