//! The caller's own sessions: list them, end one, end all but the current one.
//!
//! A session is a refresh-token family: one sign-in and the tokens that descend from it.
//! Ending one revokes its refresh tokens at once, and its access tokens with them, since
//! [`IdentityService::authenticate`] accepts an access token only while its session is live.

use crate::{AuthSession, IdentityError, IdentityService, SessionFamilyId, SessionSummary};

impl IdentityService {
    /// The caller's live sessions, most recently used first; the one of this request is
    /// marked `current`.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn list_sessions(
        &self,
        session: &AuthSession,
    ) -> Result<Vec<SessionSummary>, IdentityError> {
        let mut live = self
            .sessions
            .list_live(session.actor.user_id(), self.clock.now())
            .await?;
        for s in &mut live {
            s.current = s.id == session.family_id;
        }
        Ok(live)
    }

    /// Ends one of the caller's sessions (the current one too, like a sign-out).
    ///
    /// # Errors
    /// `SessionNotFound` for an unknown, already ended or another user's session (alike);
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id(), session = %id))]
    pub async fn revoke_session(
        &self,
        session: &AuthSession,
        id: SessionFamilyId,
    ) -> Result<(), IdentityError> {
        if !self
            .sessions
            .revoke_family_of(id, session.actor.user_id(), self.clock.now())
            .await?
        {
            return Err(IdentityError::SessionNotFound);
        }
        tracing::info!("session revoked by its owner");
        Ok(())
    }

    /// Ends every session of the caller except the current one.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn revoke_other_sessions(&self, session: &AuthSession) -> Result<(), IdentityError> {
        self.sessions
            .revoke_user(
                session.actor.user_id(),
                Some(session.family_id),
                self.clock.now(),
            )
            .await?;
        tracing::info!("other sessions revoked");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{DateTime, Duration, Utc};
    use mockall::predicate::eq;
    use nexus_kernel::{Actor, FixedClock, Role, UserId};

    use super::*;
    use crate::{
        ClientInfo, IdentityConfig, MockIdentityUnitOfWork, MockOtpStore, MockPasswordHasher,
        MockSessionStore, MockTokenIssuer, MockUserRepository,
    };

    fn now() -> DateTime<Utc> {
        FixedClock::default().0
    }

    fn grants(role: Role) -> &'static [nexus_kernel::Permission] {
        crate::permissions::actor(UserId::new(), role).permissions()
    }

    fn service(sessions: MockSessionStore) -> IdentityService {
        IdentityService::new(
            Arc::new(MockUserRepository::new()),
            Arc::new(sessions),
            Arc::new(MockPasswordHasher::new()),
            Arc::new(MockTokenIssuer::new()),
            Arc::new(MockOtpStore::new()),
            Arc::new(MockIdentityUnitOfWork::new()),
            Arc::new(FixedClock::default()),
            IdentityConfig {
                refresh_ttl: Duration::days(7),
                grants,
                reset_link_ttl: Duration::minutes(30),
                email_change_ttl: Duration::hours(24),
                invite_link_ttl: Duration::days(7),
            },
        )
    }

    fn auth(user: UserId, family: SessionFamilyId) -> AuthSession {
        AuthSession {
            actor: Actor::granted(user, Role::Customer, grants),
            family_id: family,
            totp_required: false,
        }
    }

    fn summary(id: SessionFamilyId) -> SessionSummary {
        SessionSummary {
            id,
            client: ClientInfo::default(),
            signed_in_at: now(),
            last_used_at: now(),
            expires_at: now() + Duration::days(7),
            current: false,
        }
    }

    #[tokio::test]
    async fn the_listing_marks_the_current_session_only() {
        let user = UserId::new();
        let (mine, other) = (SessionFamilyId::new(), SessionFamilyId::new());
        let mut store = MockSessionStore::new();
        store
            .expect_list_live()
            .with(eq(user), eq(now()))
            .returning(move |_, _| Ok(vec![summary(other), summary(mine)]));
        let listed = service(store)
            .list_sessions(&auth(user, mine))
            .await
            .expect("listed");
        let current: Vec<_> = listed.iter().map(|s| (s.id, s.current)).collect();
        assert_eq!(current, [(other, false), (mine, true)]);
    }

    #[tokio::test]
    async fn revoking_a_session_that_is_not_mine_is_not_found() {
        let user = UserId::new();
        let foreign = SessionFamilyId::new();
        let mut store = MockSessionStore::new();
        store
            .expect_revoke_family_of()
            .with(eq(foreign), eq(user), eq(now()))
            .times(1)
            .returning(|_, _, _| Ok(false));
        let err = service(store)
            .revoke_session(&auth(user, SessionFamilyId::new()), foreign)
            .await
            .expect_err("not mine");
        assert!(matches!(err, IdentityError::SessionNotFound), "{err:?}");
    }

    #[tokio::test]
    async fn revoking_the_others_keeps_the_current_session() {
        let user = UserId::new();
        let mine = SessionFamilyId::new();
        let mut store = MockSessionStore::new();
        store
            .expect_revoke_user()
            .with(eq(user), eq(Some(mine)), eq(now()))
            .times(1)
            .returning(|_, _, _| Ok(()));
        service(store)
            .revoke_other_sessions(&auth(user, mine))
            .await
            .expect("revoked");
    }
}
