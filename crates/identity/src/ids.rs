//! Identity's own ids (the user id is the kernel's: every domain knows who acts).

nexus_kernel::typed_id!(
    /// Identifies one refresh token (one link in a session family).
    pub SessionId
);
nexus_kernel::typed_id!(
    /// Identifies a session family: every refresh token descended from one sign-in.
    pub SessionFamilyId
);
