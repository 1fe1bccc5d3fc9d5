//! The approval workflow's ids.

nexus_kernel::typed_id!(
    /// Identifies a staff response to a customer.
    pub ResponseId
);
