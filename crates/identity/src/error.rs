use nexus_kernel::{Role, Unexpected, UserId};

/// Which password rule a new password breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    /// Fewer than 8 characters.
    #[error("password must be at least 8 characters")]
    TooShort,
    /// More than 72 bytes (bcrypt would silently ignore the rest).
    #[error("password must be at most 72 bytes")]
    TooLong,
    /// The e-mail address (or its local part) used as the password.
    #[error("password must not be the e-mail address")]
    SameAsEmail,
}

/// Everything that can go wrong in identity and access.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Unknown e-mail or wrong password; deliberately indistinguishable.
    #[error("invalid e-mail or password")]
    InvalidCredentials,
    /// The account exists and the password was right, but it has been deactivated.
    #[error("this account is deactivated")]
    AccountDisabled,
    /// The access or refresh token is missing, malformed, expired, revoked or reused.
    #[error("the token is invalid or expired")]
    InvalidToken,
    /// The caller is authenticated but may not do this.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// No user with this id.
    #[error("user {0} not found")]
    NotFound(UserId),
    /// No live session with this id belongs to the caller.
    #[error("session not found")]
    SessionNotFound,
    /// Two-factor sign-in is not configured on this server.
    #[error("two-factor sign-in is not available")]
    TotpUnavailable,
    /// Two-factor sign-in is already on for this account.
    #[error("two-factor sign-in is already on")]
    TotpAlreadyEnabled,
    /// No authenticator enrolment is waiting for its first code.
    #[error("start the authenticator enrolment first")]
    TotpNotStarted,
    /// Two-factor sign-in is not on for this account.
    #[error("two-factor sign-in is not on")]
    TotpNotEnabled,
    /// The sign-in challenge is unknown, expired, used or voided by wrong codes;
    /// deliberately indistinguishable.
    #[error("the sign-in challenge is invalid or expired; sign in again")]
    InvalidChallenge,
    /// Another account already uses this e-mail address.
    #[error("an account with this e-mail already exists")]
    EmailTaken,
    /// The record changed since the caller read it.
    #[error("the user was changed by someone else")]
    Conflict,
    /// The new password breaks the policy.
    #[error(transparent)]
    WeakPassword(#[from] PasswordRule),
    /// The current password given to a password change is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// An administrator tried to deactivate or demote their own account.
    #[error("you cannot deactivate yourself or change your own role ({0})")]
    SelfLockout(Role),
    /// The one-time code is wrong, expired, used up or unknown; deliberately indistinguishable.
    #[error("the code is invalid or expired")]
    InvalidCode,
    /// The e-mailed link's token is unknown, expired, already used or voided;
    /// deliberately indistinguishable.
    #[error("the link is invalid or expired")]
    InvalidLink,
    /// Too many password checks are running; try again shortly (a guard against floods of
    /// logins that would otherwise queue CPU-heavy work for everyone).
    #[error("the service is busy; try again shortly")]
    Busy,
    /// A staff account (the last administrator among them) cannot be erased by its owner:
    /// an administrator deactivates it instead.
    #[error(
        "a {0} account cannot be erased by its owner; an administrator deactivates staff accounts"
    )]
    StaffErasure(Role),
    /// Invitations are for staff roles; buyers register themselves.
    #[error(
        "invitations are for staff roles (CSO, MANAGER, EDITOR, ADMIN); buyers register themselves"
    )]
    InviteRole,
    /// The invited account is no longer waiting for its invitation: it has a password or a
    /// verified address already, or it is deactivated.
    #[error("this account is not waiting for an invitation")]
    NotInvited,
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
