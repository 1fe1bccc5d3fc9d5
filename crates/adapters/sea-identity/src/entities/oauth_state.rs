//! `oauth_states`: sign-in authorizations in flight.

use sea_orm::entity::prelude::*;

/// One row of `oauth_states`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    /// State id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Hash of the state sent to the provider; unique.
    pub state_hash: String,
    /// Hash of the browser binding cookie's value.
    pub binding_hash: String,
    /// `google` or `github`.
    pub provider: String,
    /// PKCE code verifier.
    pub pkce_verifier: String,
    /// Nonce the ID token must carry.
    pub nonce: String,
    /// `SIGN_IN` or `LINK`.
    pub intent: String,
    /// The user who started a link.
    pub user_id: Option<Uuid>,
    /// Started at.
    pub created_at: DateTimeUtc,
    /// Unusable from this instant on.
    pub expires_at: DateTimeUtc,
    /// When the callback used it.
    pub consumed_at: Option<DateTimeUtc>,
}

/// No relations are mapped: foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
