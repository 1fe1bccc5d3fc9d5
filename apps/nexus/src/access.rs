//! Who may do what: the one role → permission table of the whole service.
//!
//! Each domain names its permissions (`nexus_customers::permissions`, ...) and checks them;
//! only this table says which role holds which. A signed-in user acts with their role's row
//! (`IdentityConfig::grants` is [`grants`]).

use nexus_kernel::{Actor, Permission, Role, UserId};

use nexus_approvals::permissions::{RESPONSES_DRAFT, RESPONSES_READ_ALL, RESPONSES_REVIEW};
use nexus_catalog::permissions::{PRODUCTS_MANAGE, PRODUCTS_READ_UNPUBLISHED};
use nexus_customers::permissions::{
    CUSTOMERS_ASSIGN, CUSTOMERS_CREATE, CUSTOMERS_DELETE, CUSTOMERS_READ_ALL,
    CUSTOMERS_READ_ASSIGNED, CUSTOMERS_UPDATE, ENQUIRIES_READ_ALL, ENQUIRIES_READ_ASSIGNED,
    ENQUIRIES_READ_OWN, ENQUIRIES_UPDATE,
};
use nexus_identity::permissions::USERS_MANAGE;
use nexus_orders::permissions::{ORDERS_READ_ALL, ORDERS_REFUND};
use nexus_outbox::permissions::JOBS_MANAGE;

use nexus_analytics::permissions::ANALYTICS_READ;
use nexus_audit::permissions::AUDIT_READ;
use nexus_content::permissions::{CONTENT_MANAGE, CONTENT_PUBLISH, CONTENT_READ_AUDIT};
use nexus_feedback::permissions::FEEDBACK_MODERATE;
use nexus_seo::permissions::{SEO_READ, SEO_REDIRECTS, SEO_SCAN};

/// Runs the system: everything a manager does, plus users, refunds and background work.
const ADMIN: &[Permission] = &[
    USERS_MANAGE,
    AUDIT_READ,
    CUSTOMERS_READ_ALL,
    CUSTOMERS_READ_ASSIGNED,
    CUSTOMERS_CREATE,
    CUSTOMERS_UPDATE,
    CUSTOMERS_DELETE,
    CUSTOMERS_ASSIGN,
    ENQUIRIES_READ_ALL,
    ENQUIRIES_READ_ASSIGNED,
    ENQUIRIES_UPDATE,
    RESPONSES_DRAFT,
    RESPONSES_READ_ALL,
    RESPONSES_REVIEW,
    PRODUCTS_MANAGE,
    PRODUCTS_READ_UNPUBLISHED,
    ORDERS_READ_ALL,
    ORDERS_REFUND,
    JOBS_MANAGE,
    ANALYTICS_READ,
    FEEDBACK_MODERATE,
    // Content.
    CONTENT_MANAGE,
    CONTENT_PUBLISH,
    CONTENT_READ_AUDIT,
    // SEO.
    SEO_READ,
    SEO_SCAN,
    SEO_REDIRECTS,
];

/// Supervises customer service and the catalog: sees every customer, assigns, approves.
const MANAGER: &[Permission] = &[
    CUSTOMERS_READ_ALL,
    CUSTOMERS_READ_ASSIGNED,
    CUSTOMERS_CREATE,
    CUSTOMERS_UPDATE,
    CUSTOMERS_DELETE,
    CUSTOMERS_ASSIGN,
    ENQUIRIES_READ_ALL,
    ENQUIRIES_READ_ASSIGNED,
    ENQUIRIES_UPDATE,
    RESPONSES_DRAFT,
    RESPONSES_READ_ALL,
    RESPONSES_REVIEW,
    PRODUCTS_MANAGE,
    PRODUCTS_READ_UNPUBLISHED,
    ORDERS_READ_ALL,
    ANALYTICS_READ,
    FEEDBACK_MODERATE,
    // Content.
    CONTENT_MANAGE,
    CONTENT_PUBLISH,
    CONTENT_READ_AUDIT,
    // SEO.
    SEO_READ,
    SEO_SCAN,
    SEO_REDIRECTS,
];

/// Works the customers assigned to them; drafts responses that someone else approves.
const CSO: &[Permission] = &[
    CUSTOMERS_READ_ASSIGNED,
    CUSTOMERS_CREATE,
    CUSTOMERS_UPDATE,
    ENQUIRIES_READ_ASSIGNED,
    ENQUIRIES_UPDATE,
    RESPONSES_DRAFT,
];

/// Runs the storefront's content; no CRM, no orders. The content domains add its rows.
const EDITOR: &[Permission] = &[
    ANALYTICS_READ,
    FEEDBACK_MODERATE,
    // Content.
    CONTENT_MANAGE,
    CONTENT_PUBLISH,
    CONTENT_READ_AUDIT,
    // SEO.
    SEO_READ,
    SEO_SCAN,
    SEO_REDIRECTS,
];

/// A buyer: their own enquiries (their own cart, orders and downloads need no permission).
const CUSTOMER: &[Permission] = &[ENQUIRIES_READ_OWN];

/// What `role` is granted.
#[must_use]
pub fn grants(role: Role) -> &'static [Permission] {
    match role {
        Role::Admin => ADMIN,
        Role::Manager => MANAGER,
        Role::Cso => CSO,
        Role::Editor => EDITOR,
        Role::Customer => CUSTOMER,
    }
}

/// `user` acting with `role`, holding that role's grants.
#[must_use]
pub fn actor(user: UserId, role: Role) -> Actor {
    Actor::granted(user, role, grants)
}

/// Every permission some domain checks.
#[must_use]
pub fn every_permission() -> Vec<Permission> {
    [
        nexus_identity::permissions::ALL,
        nexus_customers::permissions::ALL,
        nexus_approvals::permissions::ALL,
        nexus_catalog::permissions::ALL,
        nexus_orders::permissions::ALL,
        nexus_outbox::permissions::ALL,
        nexus_analytics::permissions::ALL,
        nexus_feedback::permissions::ALL,
        nexus_content::permissions::ALL,
        nexus_seo::permissions::ALL,
        nexus_audit::permissions::ALL,
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn holders(permission: Permission) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| grants(*role).contains(&permission))
            .collect()
    }

    #[test]
    fn every_permission_a_domain_checks_is_granted_to_some_role_and_names_are_unique() {
        let all = every_permission();
        let names: BTreeSet<&str> = all.iter().map(Permission::name).collect();
        assert_eq!(
            names.len(),
            all.len(),
            "two permissions share a name: {all:?}"
        );
        for permission in &all {
            assert!(
                !holders(*permission).is_empty(),
                "{permission} is granted to nobody"
            );
        }
    }

    #[test]
    fn the_table_grants_only_permissions_a_domain_checks_and_none_twice() {
        let known = every_permission();
        for role in Role::ALL {
            let row = grants(role);
            let distinct: BTreeSet<Permission> = row.iter().copied().collect();
            assert_eq!(distinct.len(), row.len(), "{role} lists a permission twice");
            for permission in row {
                assert!(
                    known.contains(permission),
                    "{role} holds unknown {permission}"
                );
            }
        }
    }

    #[test]
    fn who_holds_what() {
        use Role::{Admin, Cso, Customer, Editor, Manager};
        assert_eq!(holders(USERS_MANAGE), [Admin]);
        assert_eq!(holders(JOBS_MANAGE), [Admin]);
        assert_eq!(holders(ORDERS_REFUND), [Admin]);
        assert_eq!(holders(ORDERS_READ_ALL), [Admin, Manager]);
        assert_eq!(holders(PRODUCTS_MANAGE), [Admin, Manager]);
        assert_eq!(holders(PRODUCTS_READ_UNPUBLISHED), [Admin, Manager]);
        assert_eq!(holders(CUSTOMERS_ASSIGN), [Admin, Manager]);
        assert_eq!(holders(CUSTOMERS_DELETE), [Admin, Manager]);
        assert_eq!(holders(CUSTOMERS_READ_ALL), [Admin, Manager]);
        assert_eq!(holders(CUSTOMERS_READ_ASSIGNED), [Admin, Manager, Cso]);
        assert_eq!(holders(RESPONSES_REVIEW), [Admin, Manager]);
        assert_eq!(holders(RESPONSES_DRAFT), [Admin, Manager, Cso]);
        assert_eq!(holders(ENQUIRIES_READ_OWN), [Customer]);
        assert_eq!(
            holders(ANALYTICS_READ),
            [Admin, Manager, Role::Editor],
            "page metrics: no CRM role and no customer reads them"
        );
        assert_eq!(holders(FEEDBACK_MODERATE), [Admin, Manager, Role::Editor]);
        assert_eq!(holders(CONTENT_MANAGE), [Admin, Manager, Editor]);
        assert_eq!(holders(CONTENT_PUBLISH), [Admin, Manager, Editor]);
        assert_eq!(holders(CONTENT_READ_AUDIT), [Admin, Manager, Editor]);
        assert_eq!(holders(SEO_READ), [Admin, Manager, Editor]);
        assert_eq!(holders(SEO_SCAN), [Admin, Manager, Editor]);
    }

    #[test]
    fn staff_rows_are_nested_admin_over_manager_over_officer() {
        let contains =
            |big: Role, small: Role| grants(small).iter().all(|p| grants(big).contains(p));
        assert!(contains(Role::Admin, Role::Manager));
        assert!(contains(Role::Manager, Role::Cso));
        assert!(!contains(Role::Cso, Role::Manager));
        assert!(contains(Role::Manager, Role::Editor));
    }

    #[test]
    fn an_editor_holds_nothing_of_the_crm_or_of_orders() {
        let editor = grants(Role::Editor);
        let crm_or_money = [
            nexus_identity::permissions::ALL,
            nexus_customers::permissions::ALL,
            nexus_approvals::permissions::ALL,
            nexus_orders::permissions::ALL,
            nexus_outbox::permissions::ALL,
        ]
        .concat();
        for permission in crm_or_money {
            assert!(!editor.contains(&permission), "EDITOR holds {permission}");
        }
    }

    #[test]
    fn an_actor_holds_its_roles_row() {
        let cso = actor(UserId::new(), Role::Cso);
        assert!(cso.can(RESPONSES_DRAFT));
        assert!(!cso.can(RESPONSES_REVIEW));
        assert_eq!(cso.permissions(), CSO);
    }
}
