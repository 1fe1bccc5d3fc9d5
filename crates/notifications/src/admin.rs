//! Administrators' view of the job queue: list and retry.

use std::sync::Arc;

use nexus_kernel::{Actor, Clock, JobId, Page, PageRequest, Permission};

use crate::{Job, JobFilter, JobStore, NotificationsError};

/// Lets administrators see jobs (dead letters included) and send a dead job round again.
pub struct JobAdminService {
    store: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    max_attempts: u32,
}

impl JobAdminService {
    /// Builds the service. `max_attempts` is the workers' configured budget: jobs are shown
    /// with the limit actually applied, the smaller of theirs and this one.
    #[must_use]
    pub fn new(store: Arc<dyn JobStore>, clock: Arc<dyn Clock>, max_attempts: u32) -> Self {
        Self {
            store,
            clock,
            max_attempts,
        }
    }

    fn effective(&self, mut job: Job) -> Job {
        job.max_attempts = job.max_attempts.min(self.max_attempts);
        job
    }

    /// One page of jobs, newest first.
    ///
    /// # Errors
    /// `Forbidden` without the jobs permission, `Unexpected`.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: JobFilter,
        page: PageRequest,
    ) -> Result<Page<Job>, NotificationsError> {
        require(actor)?;
        Ok(self
            .store
            .list(filter, page)
            .await?
            .map(|job| self.effective(job)))
    }

    /// Puts a DEAD job back in the queue with a fresh attempt budget.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidState` (not DEAD), `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), job_id = %id))]
    pub async fn retry(&self, actor: &Actor, id: JobId) -> Result<Job, NotificationsError> {
        require(actor)?;
        let job = self.store.retry(id, self.clock.now()).await?;
        tracing::info!("dead job sent back to the queue");
        Ok(self.effective(job))
    }
}

fn require(actor: &Actor) -> Result<(), NotificationsError> {
    if actor.can(Permission::JobsManage) {
        Ok(())
    } else {
        Err(NotificationsError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use nexus_kernel::{FixedClock, Role, UserId};

    use super::*;
    use crate::MockJobStore;

    #[tokio::test]
    async fn only_administrators_see_or_retry_jobs() {
        for role in [Role::Manager, Role::Cso, Role::Customer] {
            let mut store = MockJobStore::new();
            store.expect_list().never();
            store.expect_retry().never();
            let service = JobAdminService::new(Arc::new(store), Arc::new(FixedClock::default()), 8);
            let actor = Actor::new(UserId::new(), role);
            assert!(matches!(
                service
                    .list(&actor, JobFilter::default(), PageRequest::default())
                    .await,
                Err(NotificationsError::Forbidden)
            ));
            assert!(matches!(
                service.retry(&actor, JobId::new()).await,
                Err(NotificationsError::Forbidden)
            ));
        }
    }

    #[tokio::test]
    async fn an_administrator_retries_through_the_store() {
        let id = JobId::new();
        let mut store = MockJobStore::new();
        store
            .expect_retry()
            .withf(move |j, _| *j == id)
            .times(1)
            .returning(|_, _| Err(NotificationsError::InvalidState("DONE")));
        let service = JobAdminService::new(Arc::new(store), Arc::new(FixedClock::default()), 8);
        let admin = Actor::new(UserId::new(), Role::Admin);
        assert!(matches!(
            service.retry(&admin, id).await,
            Err(NotificationsError::InvalidState("DONE"))
        ));
    }
}
