//! The outbox's own ids.

nexus_kernel::typed_id!(
    /// Identifies one domain event written to the outbox.
    pub EventId
);
nexus_kernel::typed_id!(
    /// Identifies the delivery of one event to one subscriber. Stable across retries: it is
    /// the idempotency key a subscriber uses so that its effect happens once.
    pub DeliveryId
);
