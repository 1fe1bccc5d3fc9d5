//! The outbox's own ids. The kernel does not export its id macro yet, so these follow the
//! kernel ids' shape by hand (UUID v7, serde-transparent, `FromStr` with `InvalidId`).

use std::fmt;
use std::str::FromStr;

use nexus_kernel::InvalidId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! outbox_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        #[expect(clippy::new_without_default, reason = "a default id would silently be a random one; call new() explicitly")]
        impl $name {
            /// A new, time-ordered (UUID v7) id.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (read back from storage or a request).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }
    };
}

outbox_id!(
    /// Identifies one domain event written to the outbox.
    EventId
);
outbox_id!(
    /// Identifies the delivery of one event to one subscriber. Stable across retries: it is
    /// the idempotency key a subscriber uses so that its effect happens once.
    DeliveryId
);
