//! Who is calling and what they may do: [`Role`], the open [`Permission`] that each domain
//! declares its own of, the [`Grants`] a composition root writes once, and [`Actor`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UserId;

/// The role of a user account. Admins, managers and officers run the CRM; editors run the
/// storefront's content; `Customer` is a buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Runs the system: users, settings, everything managers can do.
    Admin,
    /// Supervises customer service: sees every customer, assigns, approves.
    Manager,
    /// Customer-service officer: works the customers assigned to them.
    Cso,
    /// Edits the storefront's content (pages, blog, team, SEO) and moderates feedback; no
    /// access to the CRM or to orders.
    Editor,
    /// A buyer with a storefront account; no access to the CRM.
    Customer,
}

/// A text that names no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown role (expected ADMIN, MANAGER, CSO, EDITOR or CUSTOMER)")]
pub struct UnknownRole;

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Self; 5] = [
        Self::Admin,
        Self::Manager,
        Self::Cso,
        Self::Editor,
        Self::Customer,
    ];

    /// The stable wire and storage name (`ADMIN`, `MANAGER`, `CSO`, `EDITOR`, `CUSTOMER`).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Manager => "MANAGER",
            Self::Cso => "CSO",
            Self::Editor => "EDITOR",
            Self::Customer => "CUSTOMER",
        }
    }

    /// Whether this is a staff role (signs in to the back office).
    #[must_use]
    pub const fn is_staff(&self) -> bool {
        !matches!(self, Self::Customer)
    }

    /// Whether this role works the CRM, so may be assigned customers and enquiries: every
    /// staff role but the editor.
    #[must_use]
    pub const fn works_the_crm(&self) -> bool {
        matches!(self, Self::Admin | Self::Manager | Self::Cso)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownRole)
    }
}

/// Something a role may be granted. Each domain crate declares its own as constants, named
/// `<context>.<action>` (`customers.read_all`, `orders.refund`), and checks them with
/// [`Actor::can`]; the kernel knows none of them.
///
/// ```
/// use nexus_kernel::{Actor, Permission, Role, UserId};
///
/// const WIDGETS_MANAGE: Permission = Permission::new("widgets.manage");
///
/// let editor = Actor::new(UserId::new(), Role::Manager, &[WIDGETS_MANAGE]);
/// assert!(editor.can(WIDGETS_MANAGE));
/// assert!(!Actor::new(UserId::new(), Role::Manager, &[]).can(WIDGETS_MANAGE));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission(&'static str);

impl Permission {
    /// A permission named `name` (`<context>.<action>`, lower case).
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The permission's name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The role → permission table: what every role is granted. A composition root writes it
/// once and hands it to whatever turns a signed-in user into an [`Actor`].
pub type Grants = fn(Role) -> &'static [Permission];

/// Who is calling a service: an authenticated user, their role at the time of the call and
/// the permissions that role is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    user_id: UserId,
    role: Role,
    permissions: &'static [Permission],
}

impl Actor {
    /// An authenticated user acting with `role`, holding `permissions`.
    #[must_use]
    pub const fn new(user_id: UserId, role: Role, permissions: &'static [Permission]) -> Self {
        Self {
            user_id,
            role,
            permissions,
        }
    }

    /// An authenticated user acting with `role`, holding what `grants` gives that role.
    #[must_use]
    pub fn granted(user_id: UserId, role: Role, grants: Grants) -> Self {
        Self::new(user_id, role, grants(role))
    }

    /// The acting user.
    #[must_use]
    pub const fn user_id(&self) -> UserId {
        self.user_id
    }

    /// The acting user's role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Every permission the actor holds.
    #[must_use]
    pub const fn permissions(&self) -> &'static [Permission] {
        self.permissions
    }

    /// Whether the actor holds `permission`.
    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: Permission = Permission::new("things.read");
    const WRITE: Permission = Permission::new("things.write");

    fn grants(role: Role) -> &'static [Permission] {
        match role {
            Role::Admin => &[READ, WRITE],
            Role::Manager | Role::Cso => &[READ],
            Role::Editor | Role::Customer => &[],
        }
    }

    #[test]
    fn roles_parse_case_insensitively_and_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().to_lowercase().parse::<Role>(), Ok(role));
        }
        assert_eq!("ROOT".parse::<Role>(), Err(UnknownRole));
        assert!(!Role::Customer.is_staff());
        assert!(Role::Cso.is_staff());
        assert!(Role::Editor.is_staff());
        assert!(!Role::Editor.works_the_crm());
        assert!(Role::Cso.works_the_crm());
        assert!(!Role::Customer.works_the_crm());
    }

    #[test]
    fn an_actor_holds_exactly_what_its_role_is_granted() {
        let admin = Actor::granted(UserId::new(), Role::Admin, grants);
        assert!(admin.can(READ) && admin.can(WRITE));
        let cso = Actor::granted(UserId::new(), Role::Cso, grants);
        assert!(cso.can(READ));
        assert!(!cso.can(WRITE));
        let buyer = Actor::granted(UserId::new(), Role::Customer, grants);
        assert!(buyer.permissions().is_empty());
        assert!(!buyer.can(READ));
    }

    #[test]
    fn permissions_compare_by_name() {
        assert_eq!(READ, Permission::new("things.read"));
        assert_ne!(READ, WRITE);
        assert_eq!(WRITE.to_string(), "things.write");
        assert_eq!(format!("{READ:?}"), "things.read");
    }
}
