//! The CRM's ids.

nexus_kernel::typed_id!(
    /// Identifies a customer record in the CRM.
    pub CustomerId
);
nexus_kernel::typed_id!(
    /// Identifies an enquiry from the public or a customer.
    pub EnquiryId
);
nexus_kernel::typed_id!(
    /// Identifies a note staff wrote on a customer.
    pub NoteId
);
