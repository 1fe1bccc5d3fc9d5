use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UserId;

/// The role of a user account. Staff roles run the CRM; `Customer` is a buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Runs the system: users, settings, everything managers can do.
    Admin,
    /// Supervises customer service: sees every customer, assigns, approves.
    Manager,
    /// Customer-service officer: works the customers assigned to them.
    Cso,
    /// A buyer with a storefront account; no access to the CRM.
    Customer,
}

/// A text that names no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown role (expected ADMIN, MANAGER, CSO or CUSTOMER)")]
pub struct UnknownRole;

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Self; 4] = [Self::Admin, Self::Manager, Self::Cso, Self::Customer];

    /// The stable wire and storage name (`ADMIN`, `MANAGER`, `CSO`, `CUSTOMER`).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Manager => "MANAGER",
            Self::Cso => "CSO",
            Self::Customer => "CUSTOMER",
        }
    }

    /// Whether this is a staff role (may use the CRM at all).
    #[must_use]
    pub const fn is_staff(&self) -> bool {
        !matches!(self, Self::Customer)
    }

    /// The permission matrix: what each role may do. This is the one place it is written.
    #[must_use]
    pub fn permissions(&self) -> &'static [Permission] {
        use Permission as P;
        match self {
            Self::Admin => &[
                P::UsersManage,
                P::CustomersReadAll,
                P::CustomersReadAssigned,
                P::CustomersCreate,
                P::CustomersUpdate,
                P::CustomersDelete,
                P::CustomersAssign,
                P::EnquiriesReadAll,
                P::EnquiriesReadAssigned,
                P::EnquiriesUpdate,
                P::ResponsesDraft,
                P::ResponsesReadAll,
                P::ResponsesReview,
                P::JobsManage,
            ],
            Self::Manager => &[
                P::CustomersReadAll,
                P::CustomersReadAssigned,
                P::CustomersCreate,
                P::CustomersUpdate,
                P::CustomersDelete,
                P::CustomersAssign,
                P::EnquiriesReadAll,
                P::EnquiriesReadAssigned,
                P::EnquiriesUpdate,
                P::ResponsesDraft,
                P::ResponsesReadAll,
                P::ResponsesReview,
            ],
            Self::Cso => &[
                P::CustomersReadAssigned,
                P::CustomersCreate,
                P::CustomersUpdate,
                P::EnquiriesReadAssigned,
                P::EnquiriesUpdate,
                P::ResponsesDraft,
            ],
            Self::Customer => &[P::EnquiriesReadOwn],
        }
    }

    /// Whether this role holds `permission`.
    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
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

/// Something a role may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    /// List, create and change user accounts of any role.
    UsersManage,
    /// See every customer in the CRM.
    CustomersReadAll,
    /// See customers assigned to oneself.
    CustomersReadAssigned,
    /// Create customers.
    CustomersCreate,
    /// Edit customers one may see.
    CustomersUpdate,
    /// Delete customers.
    CustomersDelete,
    /// Assign customers to an officer.
    CustomersAssign,
    /// See every enquiry.
    EnquiriesReadAll,
    /// See enquiries assigned to oneself.
    EnquiriesReadAssigned,
    /// See one's own enquiries as a customer.
    EnquiriesReadOwn,
    /// Change the status of enquiries one may see.
    EnquiriesUpdate,
    /// Draft, edit and submit responses to customers one may see.
    ResponsesDraft,
    /// See every response.
    ResponsesReadAll,
    /// Approve or reject responses (never one's own).
    ResponsesReview,
    /// See and retry background jobs.
    JobsManage,
}

/// Who is calling a service: an authenticated user and their role at the time of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    user_id: UserId,
    role: Role,
}

impl Actor {
    /// An authenticated user acting with `role`.
    #[must_use]
    pub const fn new(user_id: UserId, role: Role) -> Self {
        Self { user_id, role }
    }

    /// Shorthand for a staff member (reads well in tests).
    #[must_use]
    pub const fn staff(user_id: UserId, role: Role) -> Self {
        Self::new(user_id, role)
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

    /// Whether the actor holds `permission`.
    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_case_insensitively_and_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().to_lowercase().parse::<Role>(), Ok(role));
        }
        assert_eq!("ROOT".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn permission_matrix() {
        use Permission as P;
        assert!(Role::Admin.can(P::UsersManage));
        assert!(!Role::Manager.can(P::UsersManage));
        assert!(Role::Manager.can(P::CustomersAssign));
        assert!(!Role::Cso.can(P::CustomersAssign));
        assert!(!Role::Cso.can(P::CustomersReadAll));
        assert!(Role::Cso.can(P::CustomersReadAssigned));
        assert!(!Role::Cso.can(P::CustomersDelete));
        assert!(Role::Customer.permissions() == [P::EnquiriesReadOwn]);
        assert!(Role::Manager.can(P::ResponsesReview));
        assert!(!Role::Cso.can(P::ResponsesReview));
        assert!(Role::Admin.can(P::JobsManage));
        assert!(!Role::Manager.can(P::JobsManage));
        assert!(!Role::Customer.is_staff());
    }
}
