//! [`NoteRepository`] on `customer_notes`.

use async_trait::async_trait;
use nexus_customers::{CustomerId, CustomersError, Note, NoteBody, NoteId, NoteRepository};
use nexus_kernel::{Page, PageRequest, UserId};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use nexus_sea_support::{begin_read, unexpected};

use crate::entities::customer_note;

/// Stores notes with SeaORM. Cheap to clone: it shares the connection pool.
#[derive(Clone, Debug)]
pub struct SeaNoteRepository {
    db: DatabaseConnection,
}

impl SeaNoteRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn from_row(row: customer_note::Model) -> Result<Note, CustomersError> {
    let id = row.id;
    Ok(Note {
        id: NoteId::from_uuid(id),
        customer_id: CustomerId::from_uuid(row.customer_id),
        author_id: UserId::from_uuid(row.author_id),
        body: NoteBody::parse(&row.body).map_err(nexus_sea_support::invalid_row::<
            _,
            CustomersError,
        >("customer_notes", id, "body"))?,
        created_at: row.created_at,
    })
}

#[async_trait]
impl NoteRepository for SeaNoteRepository {
    async fn insert(&self, note: &Note) -> Result<(), CustomersError> {
        let row = customer_note::Model {
            id: note.id.as_uuid(),
            customer_id: note.customer_id.as_uuid(),
            author_id: note.author_id.as_uuid(),
            body: note.body.as_str().to_owned(),
            created_at: note.created_at,
        };
        customer_note::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(unexpected("inserting a note"))?;
        Ok(())
    }

    async fn list(
        &self,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Page<Note>, CustomersError> {
        let select = customer_note::Entity::find()
            .filter(customer_note::Column::CustomerId.eq(customer.as_uuid()));
        // Both read the (customer_id, created_at, id) index, in one snapshot.
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a note list"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting notes"))?;
        let rows = select
            .order_by_desc(customer_note::Column::CreatedAt)
            .order_by_desc(customer_note::Column::Id)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing notes"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a note list"))?;
        let items = rows
            .into_iter()
            .map(from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }
}
