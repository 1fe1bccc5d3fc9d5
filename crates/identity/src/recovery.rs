//! Account recovery and e-mail change, by e-mailed single-use links.

use chrono::Duration;
use nexus_kernel::Email;
use nexus_outbox::EventEnvelope;

use crate::{
    AccountLink, AccountLinkIssued, AuthSession, EmailChangeRequested, EmailChanged, EmailVerified,
    IdentityError, IdentityService, LinkPurpose, Password, PasswordReset, User,
};

/// A lifetime in whole minutes, for the e-mail's wording (at least one).
pub(crate) fn whole_minutes(ttl: Duration) -> u32 {
    u32::try_from(ttl.num_minutes().max(1)).unwrap_or(u32::MAX)
}

impl IdentityService {
    /// E-mails a single-use password-reset link to an active account's address. Answers the
    /// same whether or not the address belongs to an (active) account, so it reveals
    /// nothing; a new link voids the earlier ones.
    ///
    /// # Errors
    /// `Unexpected` only.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &str) -> Result<(), IdentityError> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let Some(user) = self.users.find_by_email(&email).await? else {
            return Ok(());
        };
        if !user.is_active {
            return Ok(());
        }
        self.issue_link(
            &user,
            LinkPurpose::PasswordReset,
            self.config.reset_link_ttl,
            None,
        )
        .await?;
        tracing::info!(user_id = %user.id, "password reset link issued");
        Ok(())
    }

    /// Sets a new password with a reset link's token: the link is spent, the address
    /// counts as verified (the link proved it), and every session of the account is
    /// revoked, all in one unit of work.
    ///
    /// # Errors
    /// `InvalidLink` for an unknown, expired, used or voided token, or an inactive account
    /// (all alike); `WeakPassword`; `Conflict` if the account changed meanwhile;
    /// `Unexpected`.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), IdentityError> {
        let link = self.usable_link(token, LinkPurpose::PasswordReset).await?;
        let Some(mut user) = self.users.find(link.user_id).await?.filter(|u| u.is_active) else {
            return Err(IdentityError::InvalidLink);
        };
        let password = Password::parse(password, &user.email)?;
        // Hashed before the write transaction opens: it is slow, and the claim below
        // decides who wins anyway.
        let hash = self.hasher.hash(&password).await?;
        let now = self.clock.now();
        let expected = user.version;
        let newly_verified = !user.email_verified;
        user.password_hash = hash;
        user.email_verified = true;
        user.version = expected + 1;
        user.updated_at = now;
        let mut tx = self.uow.begin().await?;
        if !tx.links().consume(link.id, now).await? {
            return Err(IdentityError::InvalidLink);
        }
        tx.users().update(&user, expected).await?;
        tx.sessions().revoke_user(user.id, None, now).await?;
        tx.record(EventEnvelope::new(
            &PasswordReset { user_id: user.id },
            now,
        )?);
        if newly_verified {
            // The link proved the address, as a one-time code does.
            tx.record(EventEnvelope::new(
                &EmailVerified {
                    user_id: user.id,
                    email: user.email.clone(),
                },
                now,
            )?);
        }
        tx.commit().await?;
        tracing::info!(user_id = %user.id, "password reset; every session revoked");
        Ok(())
    }

    /// Asks to move the caller's sign-in address to `new_email`, after checking the
    /// current password: a single-use confirmation link goes to the new address and a
    /// notice to the old one. An address another account already has gets nothing, and the
    /// caller the same answer (so the request tells nothing about other accounts); the
    /// confirmation would be refused anyway.
    ///
    /// # Errors
    /// `WrongPassword`; `EmailTaken` when `new_email` is already the caller's;
    /// `NotFound`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn request_email_change(
        &self,
        session: &AuthSession,
        new_email: Email,
        current_password: &str,
    ) -> Result<(), IdentityError> {
        let user = self.me(&session.actor).await?;
        // Longer than bcrypt reads, so never a password that was set: wrong, unverified.
        if current_password.len() > Password::MAX_BYTES
            || !self
                .hasher
                .verify(current_password, Some(&user.password_hash))
                .await?
        {
            return Err(IdentityError::WrongPassword);
        }
        if new_email == user.email {
            return Err(IdentityError::EmailTaken);
        }
        if self.users.find_by_email(&new_email).await?.is_some() {
            tracing::info!("e-mail change to an address with an account; nothing sent");
            return Ok(());
        }
        self.issue_link(
            &user,
            LinkPurpose::EmailChange,
            self.config.email_change_ttl,
            Some(new_email),
        )
        .await?;
        tracing::info!("e-mail change link issued");
        Ok(())
    }

    /// Moves the caller's sign-in address to the one their confirmation link was sent to.
    /// The address stays verified (the link proved the new one), and every other session
    /// is revoked, in one unit of work with the spent link.
    ///
    /// # Errors
    /// `InvalidLink` for an unknown, expired, used or voided token, or one of another
    /// account (all alike); `EmailTaken` when another account took the address meanwhile
    /// (the link stays usable); `Conflict`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(user_id = %session.actor.user_id()))]
    pub async fn confirm_email_change(
        &self,
        session: &AuthSession,
        token: &str,
    ) -> Result<User, IdentityError> {
        let link = self.usable_link(token, LinkPurpose::EmailChange).await?;
        let Some(new_email) = link
            .new_email
            .clone()
            .filter(|_| link.user_id == session.actor.user_id())
        else {
            return Err(IdentityError::InvalidLink);
        };
        let mut user = self.me(&session.actor).await?;
        let now = self.clock.now();
        let expected = user.version;
        user.email = new_email;
        user.email_verified = true;
        user.version = expected + 1;
        user.updated_at = now;
        let mut tx = self.uow.begin().await?;
        if !tx.links().consume(link.id, now).await? {
            return Err(IdentityError::InvalidLink);
        }
        tx.users().update(&user, expected).await?;
        tx.sessions()
            .revoke_user(user.id, Some(session.family_id), now)
            .await?;
        tx.record(EventEnvelope::new(&EmailChanged { user_id: user.id }, now)?);
        // The new address is proven: the CRM links the account to its customer, if any.
        tx.record(EventEnvelope::new(
            &EmailVerified {
                user_id: user.id,
                email: user.email.clone(),
            },
            now,
        )?);
        tx.commit().await?;
        tracing::info!("e-mail address changed; other sessions revoked");
        Ok(user)
    }

    /// Stores a new link of `purpose` for `user` (voiding earlier ones) with the event that
    /// e-mails it: to `new_email` when given (then the old address gets a notice too),
    /// otherwise to the account's address.
    async fn issue_link(
        &self,
        user: &User,
        purpose: LinkPurpose,
        ttl: Duration,
        new_email: Option<Email>,
    ) -> Result<(), IdentityError> {
        let now = self.clock.now();
        let plain = self.tokens.new_refresh_token();
        let link = AccountLink {
            id: uuid::Uuid::now_v7(),
            user_id: user.id,
            purpose,
            token_hash: self.tokens.hash_refresh_token(&plain),
            new_email: new_email.clone(),
            created_at: now,
            expires_at: now + ttl,
            used_at: None,
        };
        let issued = AccountLinkIssued {
            user_id: user.id,
            email: new_email.clone().unwrap_or_else(|| user.email.clone()),
            first_name: user.first_name.as_str().to_owned(),
            token: plain,
            purpose: purpose.as_str().to_owned(),
            expires_in_minutes: whole_minutes(ttl),
        };
        let mut tx = self.uow.begin().await?;
        tx.links().replace(&link).await?;
        tx.record(EventEnvelope::new(&issued, now)?);
        if let Some(new_email) = new_email {
            tx.record(EventEnvelope::new(
                &EmailChangeRequested {
                    user_id: user.id,
                    old_email: user.email.clone(),
                    new_email,
                },
                now,
            )?);
        }
        tx.commit().await
    }

    /// The usable link of `purpose` whose token is `token`.
    pub(crate) async fn usable_link(
        &self,
        token: &str,
        purpose: LinkPurpose,
    ) -> Result<AccountLink, IdentityError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(IdentityError::InvalidLink);
        }
        let hash = self.tokens.hash_refresh_token(token);
        // A short unit of work that only reads: dropped, it changes nothing.
        let tx = self.uow.begin().await?;
        let link = tx.links().find_by_token_hash(&hash).await?;
        drop(tx);
        link.filter(|l| l.purpose == purpose && l.is_usable(self.clock.now()))
            .ok_or(IdentityError::InvalidLink)
    }
}

#[cfg(test)]
#[path = "recovery_tests.rs"]
mod tests;
