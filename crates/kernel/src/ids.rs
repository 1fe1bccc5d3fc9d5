use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A string that is not a valid id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

macro_rules! typed_id {
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

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

typed_id!(
    /// Identifies a user account (staff or customer login).
    UserId
);
typed_id!(
    /// Identifies a customer record in the CRM.
    CustomerId
);
typed_id!(
    /// Identifies one refresh token (one link in a session family).
    SessionId
);
typed_id!(
    /// Identifies a session family: every refresh token descended from one sign-in.
    SessionFamilyId
);

typed_id!(
    /// Identifies an enquiry from the public or a customer.
    EnquiryId
);
typed_id!(
    /// Identifies a staff response to a customer.
    ResponseId
);
typed_id!(
    /// Identifies a background job.
    JobId
);
typed_id!(
    /// Identifies a catalog product.
    ProductId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_version_7_and_ordered() {
        let a = UserId::new();
        let b = UserId::new();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a <= b);
    }

    #[test]
    fn parsing_rejects_garbage_and_round_trips_display() {
        assert_eq!("nope".parse::<CustomerId>(), Err(InvalidId));
        let id = CustomerId::new();
        assert_eq!(id.to_string().parse::<CustomerId>(), Ok(id));
    }
}
