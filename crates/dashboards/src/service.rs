//! Picks the caller's dashboard and the window it covers.

use std::sync::Arc;

use chrono::Duration;
use nexus_kernel::{Actor, Clock, Role};

use crate::{CsoQuery, Dashboard, DashboardReader, DashboardSnapshot, DashboardsError};

/// The window of the windowed figures (sales, throughput, refunds...), in days.
pub const WINDOW_DAYS: i64 = 30;
/// How many downloads a buyer's dashboard lists.
pub const RECENT_DOWNLOADS: u32 = 5;
/// How many of the oldest waiting responses a manager's dashboard lists.
pub const APPROVAL_QUEUE_SHOWN: u32 = 10;
/// How many products the administrator's top list holds.
pub const TOP_PRODUCTS: u32 = 5;

/// Hands each caller the dashboard of their role: CUSTOMER, CSO (their own figures only),
/// MANAGER, ADMIN. EDITOR has none (`NoDashboard`).
pub struct DashboardService {
    reader: Arc<dyn DashboardReader>,
    clock: Arc<dyn Clock>,
}

impl DashboardService {
    /// A service reading through `reader`, with ages, windows and approval deadlines
    /// measured at the `clock`'s now.
    #[must_use]
    pub fn new(reader: Arc<dyn DashboardReader>, clock: Arc<dyn Clock>) -> Self {
        Self { reader, clock }
    }

    /// The dashboard of the actor's role, computed now.
    ///
    /// # Errors
    /// `NoDashboard` for EDITOR; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), role = %actor.role()))]
    pub async fn for_actor(&self, actor: &Actor) -> Result<DashboardSnapshot, DashboardsError> {
        let now = self.clock.now();
        let dashboard = self.read(actor, now).await?;
        Ok(DashboardSnapshot { at: now, dashboard })
    }

    async fn read(
        &self,
        actor: &Actor,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Dashboard, DashboardsError> {
        let since = now - Duration::days(WINDOW_DAYS);
        match actor.role() {
            Role::Customer => Ok(Dashboard::Customer(
                self.reader
                    .customer(actor.user_id(), RECENT_DOWNLOADS)
                    .await?,
            )),
            Role::Cso => Ok(Dashboard::Cso(
                self.reader
                    .cso(&CsoQuery {
                        officer: actor.user_id(),
                        now,
                    })
                    .await?,
            )),
            Role::Manager => Ok(Dashboard::Manager(
                self.reader
                    .manager(now, since, APPROVAL_QUEUE_SHOWN)
                    .await?,
            )),
            Role::Admin => Ok(Dashboard::Admin(
                self.reader.admin(since, TOP_PRODUCTS).await?,
            )),
            Role::Editor => Err(DashboardsError::NoDashboard),
        }
    }
}

#[cfg(test)]
mod tests {
    use nexus_kernel::{FixedClock, UserId};

    use super::*;
    use crate::{
        AgeBuckets, ApprovalQueue, Conversion, CsoDashboard, DeliveryHealth, ManagerDashboard,
        MockDashboardReader, Refunds, Sales,
    };

    fn actor(role: Role) -> Actor {
        Actor::new(UserId::new(), role, &[])
    }

    fn service(reader: MockDashboardReader) -> DashboardService {
        DashboardService::new(Arc::new(reader), Arc::new(FixedClock::default()))
    }

    #[tokio::test]
    async fn an_officer_reads_their_own_figures_with_deadlines_compared_at_the_clocks_now() {
        let officer = actor(Role::Cso);
        let me = officer.user_id();
        let now = FixedClock::default().now();
        let mut reader = MockDashboardReader::new();
        reader
            .expect_cso()
            .withf(move |q| q.officer == me && q.now == now)
            .times(1)
            .returning(|_| {
                Ok(CsoDashboard {
                    customers_by_status: vec![],
                    open_enquiries: AgeBuckets::default(),
                    drafts: 1,
                    rejected: 0,
                    waiting_for_approval: 3,
                    deadlines_at_risk: 2,
                    deadlines_overdue: 1,
                })
            });

        let dashboard = service(reader).for_actor(&officer).await;

        assert!(matches!(
            dashboard.map(|s| s.dashboard),
            Ok(Dashboard::Cso(d)) if d.drafts == 1 && d.deadlines_at_risk == 2 && d.deadlines_overdue == 1
        ));
    }

    #[tokio::test]
    async fn a_manager_reads_thirty_days_deadlines_at_now_and_the_ten_oldest_waiting() {
        let now = FixedClock::default().now();
        let mut reader = MockDashboardReader::new();
        reader
            .expect_manager()
            .withf(move |at, since, shown| {
                *at == now && *since == now - Duration::days(30) && *shown == 10
            })
            .times(1)
            .returning(|_, _, _| {
                Ok(ManagerDashboard {
                    approval_queue: ApprovalQueue {
                        total: 4,
                        deadlines_at_risk: 2,
                        deadlines_overdue: 1,
                        oldest: vec![],
                    },
                    team: vec![],
                    unassigned_leads: 3,
                    sales: Sales {
                        orders_paid: 0,
                        revenue: vec![],
                    },
                })
            });

        let dashboard = service(reader).for_actor(&actor(Role::Manager)).await;

        assert!(
            matches!(dashboard.map(|s| s.dashboard), Ok(Dashboard::Manager(d)) if d.unassigned_leads == 3 && d.approval_queue.deadlines_overdue == 1)
        );
    }

    #[tokio::test]
    async fn an_editor_has_no_dashboard_and_nothing_is_read() {
        let mut reader = MockDashboardReader::new();
        reader.expect_customer().never();
        reader.expect_cso().never();
        reader.expect_manager().never();
        reader.expect_admin().never();

        let dashboard = service(reader).for_actor(&actor(Role::Editor)).await;

        assert!(matches!(dashboard, Err(DashboardsError::NoDashboard)));
    }

    #[test]
    fn rates_are_absent_without_a_denominator() {
        let none = Conversion { placed: 0, paid: 0 };
        let some = Conversion { placed: 4, paid: 1 };
        assert_eq!(none.rate(), None);
        assert_eq!(some.rate(), Some(0.25));
        let idle = crate::OfficerThroughput {
            officer_id: UserId::new(),
            name: "A".into(),
            sent: 2,
            approved: 0,
            rejected: 0,
        };
        assert_eq!(idle.rejection_rate(), None);
        let busy = crate::OfficerThroughput {
            approved: 3,
            rejected: 1,
            ..idle
        };
        assert_eq!(busy.rejection_rate(), Some(0.25));
        let _ = (
            Refunds {
                count: 0,
                amounts: vec![],
            },
            DeliveryHealth {
                pending: 0,
                dead: 0,
                oldest_pending_since: None,
            },
        );
    }
}
