//! [`FindingsStore`] over `seo_audits`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_kernel::{Page, PageRequest, Unexpected};
use nexus_sea_support::{begin_read, unexpected};
use nexus_seo::{
    AuditTotals, Finding, FindingsStore, SeoError, Severity, StoredAudit, SubjectKind,
};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::seo_audit;

/// Keeps audits with SeaORM. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaFindingsStore {
    db: DatabaseConnection,
}

impl SeaFindingsStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn fail(context: &'static str) -> impl FnOnce(sea_orm::DbErr) -> SeoError {
    move |e| SeoError::Unexpected(unexpected(context)(e))
}

fn kind_of(raw: &str) -> Result<SubjectKind, SeoError> {
    match raw {
        "PRODUCT" => Ok(SubjectKind::Product),
        "PAGE" => Ok(SubjectKind::Page),
        "POST" => Ok(SubjectKind::Post),
        other => Err(SeoError::Unexpected(Unexpected::msg(format!(
            "seo_audits row of unknown kind {other:?}"
        )))),
    }
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn from_row(row: seo_audit::Model) -> Result<StoredAudit, SeoError> {
    let findings: Vec<Finding> = serde_json::from_str(&row.findings).map_err(|e| {
        SeoError::Unexpected(Unexpected::new(
            format!("seo_audits row {} has unreadable findings", row.item_id),
            e,
        ))
    })?;
    Ok(StoredAudit {
        kind: kind_of(&row.kind)?,
        id: row.item_id,
        path: row.path,
        slug: row.slug,
        title: row.title,
        title_key: row.title_key,
        description_key: row.description_key,
        score: u32::try_from(row.score).unwrap_or(0),
        findings,
        audited_at: row.audited_at,
    })
}

fn other_than(kind: SubjectKind, id: Uuid) -> Condition {
    Condition::any()
        .add(seo_audit::Column::Kind.ne(kind.as_str()))
        .add(seo_audit::Column::ItemId.ne(id))
}

fn to_u64(n: Option<i64>) -> u64 {
    n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

#[async_trait]
impl FindingsStore for SeaFindingsStore {
    async fn save(&self, audit: &StoredAudit) -> Result<(), SeoError> {
        let findings = serde_json::to_string(&audit.findings)
            .map_err(|e| SeoError::Unexpected(Unexpected::new("writing SEO findings", e)))?;
        let row = seo_audit::ActiveModel {
            kind: sea_orm::Set(audit.kind.as_str().to_owned()),
            item_id: sea_orm::Set(audit.id),
            path: sea_orm::Set(audit.path.clone()),
            slug: sea_orm::Set(audit.slug.clone()),
            title: sea_orm::Set(audit.title.clone()),
            title_key: sea_orm::Set(audit.title_key.clone()),
            description_key: sea_orm::Set(audit.description_key.clone()),
            score: sea_orm::Set(to_i32(audit.score)),
            errors: sea_orm::Set(to_i32(audit.count(Severity::Error))),
            warnings: sea_orm::Set(to_i32(audit.count(Severity::Warning))),
            notices: sea_orm::Set(to_i32(audit.count(Severity::Notice))),
            findings: sea_orm::Set(findings),
            audited_at: sea_orm::Set(audit.audited_at),
        };
        seo_audit::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([seo_audit::Column::Kind, seo_audit::Column::ItemId])
                    .update_columns([
                        seo_audit::Column::Path,
                        seo_audit::Column::Slug,
                        seo_audit::Column::Title,
                        seo_audit::Column::TitleKey,
                        seo_audit::Column::DescriptionKey,
                        seo_audit::Column::Score,
                        seo_audit::Column::Errors,
                        seo_audit::Column::Warnings,
                        seo_audit::Column::Notices,
                        seo_audit::Column::Findings,
                        seo_audit::Column::AuditedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(fail("saving an SEO audit"))?;
        Ok(())
    }

    async fn find(&self, kind: SubjectKind, id: Uuid) -> Result<Option<StoredAudit>, SeoError> {
        seo_audit::Entity::find_by_id((kind.as_str().to_owned(), id))
            .one(&self.db)
            .await
            .map_err(fail("reading an SEO audit"))?
            .map(from_row)
            .transpose()
    }

    async fn remove(&self, kind: SubjectKind, id: Uuid) -> Result<Option<StoredAudit>, SeoError> {
        let found = self.find(kind, id).await?;
        if found.is_some() {
            seo_audit::Entity::delete_by_id((kind.as_str().to_owned(), id))
                .exec(&self.db)
                .await
                .map_err(fail("dropping an SEO audit"))?;
        }
        Ok(found)
    }

    async fn count_titles(
        &self,
        title_key: &str,
        kind: SubjectKind,
        id: Uuid,
    ) -> Result<u64, SeoError> {
        seo_audit::Entity::find()
            .filter(seo_audit::Column::TitleKey.eq(title_key))
            .filter(other_than(kind, id))
            .count(&self.db)
            .await
            .map_err(fail("counting SEO titles"))
    }

    async fn count_descriptions(
        &self,
        description_key: &str,
        kind: SubjectKind,
        id: Uuid,
    ) -> Result<u64, SeoError> {
        seo_audit::Entity::find()
            .filter(seo_audit::Column::DescriptionKey.eq(description_key))
            .filter(other_than(kind, id))
            .count(&self.db)
            .await
            .map_err(fail("counting SEO descriptions"))
    }

    async fn sharing_text(
        &self,
        title_keys: &[String],
        description_keys: &[String],
        limit: u32,
    ) -> Result<Vec<(SubjectKind, Uuid)>, SeoError> {
        if title_keys.is_empty() && description_keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut any = Condition::any();
        if !title_keys.is_empty() {
            any = any.add(seo_audit::Column::TitleKey.is_in(title_keys.iter().cloned()));
        }
        if !description_keys.is_empty() {
            any =
                any.add(seo_audit::Column::DescriptionKey.is_in(description_keys.iter().cloned()));
        }
        let rows: Vec<(String, Uuid)> = seo_audit::Entity::find()
            .select_only()
            .column(seo_audit::Column::Kind)
            .column(seo_audit::Column::ItemId)
            .filter(any)
            .order_by_asc(seo_audit::Column::Kind)
            .order_by_asc(seo_audit::Column::ItemId)
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(fail("reading items sharing SEO text"))?;
        rows.into_iter()
            .map(|(kind, id)| Ok((kind_of(&kind)?, id)))
            .collect()
    }

    async fn existing_paths(&self, paths: &[String]) -> Result<Vec<String>, SeoError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        seo_audit::Entity::find()
            .select_only()
            .column(seo_audit::Column::Path)
            .filter(seo_audit::Column::Path.is_in(paths.iter().cloned()))
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(fail("looking up SEO paths"))
    }

    async fn totals(&self) -> Result<AuditTotals, SeoError> {
        totals(&self.db).await
    }

    async fn worst_first(&self, page: PageRequest) -> Result<Page<StoredAudit>, SeoError> {
        let tx = begin_read(&self.db)
            .await
            .map_err(fail("starting the SEO report"))?;
        let total = seo_audit::Entity::find()
            .count(&tx)
            .await
            .map_err(fail("counting SEO audits"))?;
        let rows = seo_audit::Entity::find()
            .order_by_asc(seo_audit::Column::Score)
            .order_by_asc(seo_audit::Column::Path)
            .order_by_asc(seo_audit::Column::ItemId)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(fail("reading SEO audits"))?;
        tx.commit()
            .await
            .map_err(fail("finishing the SEO report"))?;
        Ok(Page {
            items: rows.into_iter().map(from_row).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn remove_audited_before(&self, at: DateTime<Utc>) -> Result<u64, SeoError> {
        let done = seo_audit::Entity::delete_many()
            .filter(seo_audit::Column::AuditedAt.lt(at))
            .exec(&self.db)
            .await
            .map_err(fail("dropping stale SEO audits"))?;
        Ok(done.rows_affected)
    }
}

/// `COUNT(*)` and the sums of score, errors, warnings and notices (NULL over no rows).
type SumsRow = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

async fn totals(db: &DatabaseConnection) -> Result<AuditTotals, SeoError> {
    let sum = |col: seo_audit::Column| Expr::expr(Func::sum(Expr::col(col)));
    let row: Option<SumsRow> = seo_audit::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(Func::count(Expr::col(seo_audit::Column::ItemId))),
            "items",
        )
        .column_as(sum(seo_audit::Column::Score), "score_sum")
        .column_as(sum(seo_audit::Column::Errors), "errors")
        .column_as(sum(seo_audit::Column::Warnings), "warnings")
        .column_as(sum(seo_audit::Column::Notices), "notices")
        .into_tuple()
        .one(db)
        .await
        .map_err(fail("summing SEO audits"))?;
    let Some((items, score_sum, errors, warnings, notices)) = row else {
        return Ok(AuditTotals::default());
    };
    Ok(AuditTotals {
        items: to_u64(Some(items)),
        score_sum: to_u64(score_sum),
        errors: to_u64(errors),
        warnings: to_u64(warnings),
        notices: to_u64(notices),
    })
}
