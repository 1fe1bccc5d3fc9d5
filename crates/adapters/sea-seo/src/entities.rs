//! SeaORM mapping of `seo_audits`, `redirect_rules` and the `content_audit` rows redirect
//! writes add, as the migrations create them; a storage shape only.

pub mod seo_audit {
    //! `seo_audits`.

    use sea_orm::entity::prelude::*;

    /// One row of `seo_audits`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "seo_audits")]
    pub struct Model {
        /// `PRODUCT`, `PAGE`, `POST`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        /// The item's id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub item_id: Uuid,
        /// Public path.
        pub path: String,
        /// Slug.
        pub slug: String,
        /// Effective title.
        pub title: String,
        /// Normalized title.
        pub title_key: String,
        /// Normalized description.
        pub description_key: Option<String>,
        /// Score.
        pub score: i32,
        /// Findings of severity error.
        pub errors: i32,
        /// Findings of severity warning.
        pub warnings: i32,
        /// Findings of severity notice.
        pub notices: i32,
        /// Findings, JSON.
        pub findings: String,
        /// When audited.
        pub audited_at: DateTimeUtc,
    }

    /// No relations are mapped.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod redirect_rule {
    //! `redirect_rules`.

    use sea_orm::entity::prelude::*;

    /// One row of `redirect_rules`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "redirect_rules")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Source path (unique).
        pub source: String,
        /// 301, 302 or 410.
        pub kind: i16,
        /// Target path or URL; none for 410.
        pub target: Option<String>,
        /// Editor's note.
        pub note: Option<String>,
        /// Optimistic version.
        pub version: i64,
        /// Created.
        pub created_at: DateTimeUtc,
        /// Who created it.
        pub created_by: Option<Uuid>,
        /// Last changed.
        pub updated_at: DateTimeUtc,
        /// Who last changed it.
        pub updated_by: Option<Uuid>,
    }

    /// No relations are mapped.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_entry {
    //! `content_audit`, the audit trail of the site's content, where redirect writes (kind
    //! `redirect_rule`) and scan requests (kind `seo_scan`, in the transaction that queues
    //! the scan) are recorded beside page, post and team writes.

    use sea_orm::entity::prelude::*;

    /// One row of `content_audit`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "content_audit")]
    pub struct Model {
        /// Entry id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// When.
        pub at: DateTimeUtc,
        /// Who.
        pub actor_id: Option<Uuid>,
        /// `redirect_rule` or `seo_scan`.
        pub entity_kind: String,
        /// The rule, or the scan request (its event's id).
        pub entity_id: Uuid,
        /// What was done (`requested` for a scan).
        pub action: String,
        /// JSON summary.
        pub changes: String,
    }

    /// No relations are mapped.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
