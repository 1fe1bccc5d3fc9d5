//! Typed ids: the [`typed_id!`](crate::typed_id) macro every domain declares its ids with, and
//! [`UserId`], the one id the kernel itself needs (an [`Actor`](crate::Actor) is a user).

/// A string that is not a valid id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

/// Declares a typed id: a UUID newtype that cannot be mixed up with another kind of id.
///
/// The type gets `new()` (a time-ordered UUID v7), `from_uuid`, `as_uuid`, `Display`,
/// `FromStr` (error [`InvalidId`](crate::InvalidId)), conversions to and from `Uuid`, and a
/// transparent serde form (the bare UUID string). Each domain crate declares its own:
///
/// ```
/// nexus_kernel::typed_id!(
///     /// Identifies a widget.
///     pub WidgetId
/// );
///
/// let id = WidgetId::new();
/// assert_eq!(id.to_string().parse::<WidgetId>(), Ok(id));
/// assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
/// ```
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $vis:vis $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name($crate::__private::Uuid);

        #[expect(clippy::new_without_default, reason = "a default id would silently be a random one; call new() explicitly")]
        impl $name {
            /// A new, time-ordered (UUID v7) id.
            #[must_use]
            pub fn new() -> Self {
                Self($crate::__private::Uuid::now_v7())
            }

            /// Wraps an existing UUID (read back from storage or a request).
            #[must_use]
            pub const fn from_uuid(uuid: $crate::__private::Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> $crate::__private::Uuid {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::InvalidId;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                $crate::__private::Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| $crate::InvalidId)
            }
        }

        impl ::std::convert::From<$crate::__private::Uuid> for $name {
            fn from(uuid: $crate::__private::Uuid) -> Self {
                Self(uuid)
            }
        }

        impl ::std::convert::From<$name> for $crate::__private::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                $crate::__private::serde::Serialize::serialize(&self.0, serializer)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                <$crate::__private::Uuid as $crate::__private::serde::Deserialize<'de>>::deserialize(
                    deserializer,
                )
                .map(Self)
            }
        }
    };
}

typed_id!(
    /// Identifies a user account (staff or customer login).
    pub UserId
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
        assert_eq!("nope".parse::<UserId>(), Err(InvalidId));
        let id = UserId::new();
        assert_eq!(id.to_string().parse::<UserId>(), Ok(id));
    }

    #[test]
    fn ids_serialise_as_the_bare_uuid() {
        let id = UserId::new();
        let json = serde_json::to_string(&id).expect("serialises");
        assert_eq!(json, format!("\"{}\"", id.as_uuid()));
        assert_eq!(serde_json::from_str::<UserId>(&json).ok(), Some(id));
        assert!(serde_json::from_str::<UserId>("\"nope\"").is_err());
    }
}
