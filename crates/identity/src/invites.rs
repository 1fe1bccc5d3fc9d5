//! Staff invitations: an administrator creates a staff account without a password, and the
//! invitee chooses one from an e-mailed single-use link.

use nexus_kernel::{Actor, AuditRecord, UserId, summarize_values};
use nexus_outbox::EventEnvelope;
use serde_json::json;

use crate::permissions;
use crate::recovery::whole_minutes;
use crate::service::{audit_view, require};
use crate::{
    AccountLink, AccountLinkIssued, EmailVerified, IdentityError, IdentityService, LinkPurpose,
    Password, PasswordHash, StaffInvite, User,
};

impl User {
    /// Whether the account still waits for its invitation to be accepted: active, with no
    /// password and an address nobody has proven yet.
    #[must_use]
    pub fn awaits_invitation(&self) -> bool {
        self.is_active && !self.password_hash.is_set() && !self.email_verified
    }
}

impl IdentityService {
    /// Creates a staff account without a password and e-mails its address a single-use
    /// link to choose one (valid `invite_link_ttl`), in one unit of work with the audit
    /// record (administrators only).
    ///
    /// # Errors
    /// `Forbidden`; `InviteRole` for the CUSTOMER role; `EmailTaken`; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn invite_staff(
        &self,
        actor: &Actor,
        invite: StaffInvite,
    ) -> Result<User, IdentityError> {
        require(actor, permissions::USERS_MANAGE)?;
        if !invite.role.is_staff() {
            return Err(IdentityError::InviteRole);
        }
        let now = self.clock.now();
        let user = User {
            id: UserId::new(),
            email: invite.email,
            password_hash: PasswordHash::none(),
            role: invite.role,
            first_name: invite.first_name,
            last_name: invite.last_name,
            is_active: true,
            email_verified: false,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let (link, issued) = self.invitation(&user);
        let mut tx = self.uow.begin().await?;
        tx.users().insert(&user).await?;
        tx.links().replace(&link).await?;
        tx.record(EventEnvelope::new(&issued, now)?);
        tx.audit(AuditRecord::new(
            Some(actor),
            "users.invited",
            "user",
            user.id,
            summarize_values(None, &audit_view(&user)),
            now,
        ));
        tx.commit().await?;
        tracing::info!(user_id = %user.id, role = %user.role, "staff member invited");
        Ok(user)
    }

    /// E-mails a fresh invitation link to an account that still waits for its invitation;
    /// the earlier links stop working (administrators only).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`; `NotInvited` when the account has a password or a verified
    /// address already, or is deactivated; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), user_id = %id))]
    pub async fn resend_invite(&self, actor: &Actor, id: UserId) -> Result<User, IdentityError> {
        require(actor, permissions::USERS_MANAGE)?;
        let user = self
            .users
            .find(id)
            .await?
            .ok_or(IdentityError::NotFound(id))?;
        if !user.awaits_invitation() {
            return Err(IdentityError::NotInvited);
        }
        let now = self.clock.now();
        let (link, issued) = self.invitation(&user);
        let mut tx = self.uow.begin().await?;
        tx.links().replace(&link).await?;
        tx.record(EventEnvelope::new(&issued, now)?);
        tx.audit(AuditRecord::new(
            Some(actor),
            "users.invite_resent",
            "user",
            user.id,
            json!({ "email": user.email.as_str() }),
            now,
        ));
        tx.commit().await?;
        tracing::info!("staff invitation sent again");
        Ok(user)
    }

    /// Sets the first password of an invited account with its invitation link's token: the
    /// link is spent and the address counts as verified (the link proved it), in one unit
    /// of work. The invitee then signs in as usual.
    ///
    /// # Errors
    /// `InvalidLink` for an unknown, expired, used or voided token, or an account that no
    /// longer waits for it (all alike); `WeakPassword`; `Conflict` if the account changed
    /// meanwhile; `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn accept_invite(&self, token: &str, password: &str) -> Result<(), IdentityError> {
        let link = self.usable_link(token, LinkPurpose::Invite).await?;
        let Some(mut user) = self
            .users
            .find(link.user_id)
            .await?
            .filter(User::awaits_invitation)
        else {
            return Err(IdentityError::InvalidLink);
        };
        let password = Password::parse(password, &user.email)?;
        // Hashed before the write transaction opens: it is slow, and the claim below
        // decides who wins anyway.
        let hash = self.hasher.hash(&password).await?;
        let now = self.clock.now();
        let expected = user.version;
        user.password_hash = hash;
        user.email_verified = true;
        user.version = expected + 1;
        user.updated_at = now;
        let mut tx = self.uow.begin().await?;
        if !tx.links().consume(link.id, now).await? {
            return Err(IdentityError::InvalidLink);
        }
        tx.users().update(&user, expected).await?;
        tx.record(EventEnvelope::new(
            &EmailVerified {
                user_id: user.id,
                email: user.email.clone(),
            },
            now,
        )?);
        let invitee = Actor::new(user.id, user.role, &[]);
        tx.audit(AuditRecord::new(
            Some(&invitee),
            "users.invite_accepted",
            "user",
            user.id,
            json!({ "email": user.email.as_str(), "role": user.role.as_str() }),
            now,
        ));
        tx.commit().await?;
        tracing::info!(user_id = %user.id, "staff invitation accepted");
        Ok(())
    }

    /// A new invitation link for `user` and the event that e-mails it.
    fn invitation(&self, user: &User) -> (AccountLink, AccountLinkIssued) {
        let now = self.clock.now();
        let ttl = self.config.invite_link_ttl;
        let plain = self.tokens.new_refresh_token();
        let link = AccountLink {
            id: uuid::Uuid::now_v7(),
            user_id: user.id,
            purpose: LinkPurpose::Invite,
            token_hash: self.tokens.hash_refresh_token(&plain),
            new_email: None,
            created_at: now,
            expires_at: now + ttl,
            used_at: None,
        };
        let issued = AccountLinkIssued {
            user_id: user.id,
            email: user.email.clone(),
            first_name: user.first_name.as_str().to_owned(),
            token: plain,
            purpose: LinkPurpose::Invite.as_str().to_owned(),
            expires_in_minutes: whole_minutes(ttl),
        };
        (link, issued)
    }
}

#[cfg(test)]
#[path = "invites_tests.rs"]
mod tests;
