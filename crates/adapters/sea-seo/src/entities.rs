//! SeaORM mapping of `seo_audits`, as the migration creates it; a storage shape only.

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

pub mod audit_entry {
    //! `content_audit`, the staff audit trail, where a scan request is recorded beside the
    //! content writes (in the transaction that queues the scan).

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
        /// `seo_scan`.
        pub entity_kind: String,
        /// The scan request (its event's id).
        pub entity_id: Uuid,
        /// `requested`.
        pub action: String,
        /// JSON summary.
        pub changes: String,
    }

    /// No relations are mapped.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
