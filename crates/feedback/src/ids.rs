//! The feedback context's ids.

nexus_kernel::typed_id!(
    /// Identifies one piece of site feedback.
    pub FeedbackId
);

nexus_kernel::typed_id!(
    /// Identifies one product review.
    pub ReviewId
);
