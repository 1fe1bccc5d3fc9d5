//! [`ProductRepository`] and [`ProductSearch`] on `products`, with full-text search on
//! PostgreSQL (a generated `tsvector` plus trigrams for typos) and on SQLite (FTS5).
//!
//! - **Search text** is reduced to words (runs of letters and digits, at most 16), each a
//!   quoted prefix term, all required: `'word':* & ...` for `to_tsquery` on PostgreSQL,
//!   `"word"* ...` for FTS5 `MATCH` on SQLite. Quotes, `*`, `%`, `OR`, `NEAR(` and the like
//!   only separate words, so no input is ever read as query syntax; a text without a word
//!   matches nothing and is answered without a query.
//! - **PostgreSQL** matches `search_vector @@ tsquery` (title A, tags and category B,
//!   description C; GIN index) OR `words <<% lower(title)` (strict word similarity at least
//!   0.45, set with `SET LOCAL` in the read transaction; trigram GIN index), so "invoce
//!   tempate" finds "Invoice template". Relevance is `ts_rank + strict_word_similarity`.
//! - **SQLite** joins `products_fts` (FTS5, porter stemming, kept in step by triggers; its
//!   rowid is `products.search_rowid`) and ranks by `bm25` weighted 10 / 1 / 4 / 4 for
//!   title / description / tags / category. It has no typo tolerance.
//! - **Filters** are SQL on both: status, category, every tag (`tags::jsonb @>` with a GIN
//!   index on PostgreSQL, one `json_each` `EXISTS` per tag on SQLite), price range in one
//!   currency. Orders: relevance, price (ties by id) or newest (ties by id). Page and exact
//!   `COUNT(*)` are read in one snapshot (`begin_read`).
//! - **Errors**: a clash on `ux_products_slug` is `SlugTaken`; a guarded update that touches
//!   no row is `Conflict`; a delete refused by a foreign key (an order line) is
//!   `ProductSold`; the rest is `Unexpected`. Rows become products through the domain
//!   constructors, and a row that breaks a rule is `Unexpected`.

use std::str::FromStr;

use async_trait::async_trait;
use nexus_catalog::ProductId;
use nexus_catalog::{
    AssetKey, CatalogError, Category, FileName, PreviewUrl, PriceRange, Product, ProductAsset,
    ProductDescription, ProductFilter, ProductQuery, ProductRepository, ProductSearch, ProductSort,
    ProductStatus, ProductTitle, SearchText, Slug, StoredImage, Tag, Tags,
};
use nexus_kernel::{Currency, Money, Page, PageRequest, Unexpected, UserId};
use sea_orm::sea_query::{Alias, Expr, JoinType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IntoActiveModel, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, SqlErr, Statement,
};
use uuid::Uuid;

use nexus_sea_support::{begin_read, is_unique_violation, unexpected};

use crate::entities::product;

/// Most words of a search that reach the database; the rest are ignored, which bounds
/// the cost of one query.
const MAX_SEARCH_WORDS: usize = 16;

/// The least `strict_word_similarity` between the search words and a run of whole words
/// of a title for the title to match on PostgreSQL even though the text search does not:
/// "invoce tempate" scores 0.52 against "Invoice template", while "tax" against "table"
/// scores 0.25. (`word_similarity` would let any title with a word sharing a two-letter
/// prefix match a short search.)
const TRIGRAM_THRESHOLD: &str = "0.45";

/// BM25 weights of the FTS5 columns title, description, tags, category, in the spirit of
/// PostgreSQL's A/B/B/C weights: a title match outranks a tag or category match, which
/// outranks a description match.
const SQLITE_RANK: &str = "bm25(products_fts, 10.0, 1.0, 4.0, 4.0)";

/// Loads and searches products with SeaORM. Cheap to clone: it shares the pool.
///
/// It implements both [`ProductRepository`] (reads) and [`ProductSearch`] (the public
/// catalog, PUBLISHED only). Writes go through [`crate::SeaCatalogUnitOfWork`].
#[derive(Clone, Debug)]
pub struct SeaProductRepository {
    db: DatabaseConnection,
}

impl SeaProductRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// One page and its exact total, read in one snapshot. A search without a searchable
    /// word matches nothing and is answered without asking the database.
    async fn list(
        &self,
        listing: &Listing<'_>,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        let backend = self.db.get_database_backend();
        let Some(filtered) = filtered(backend, listing) else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
                request: page,
            });
        };
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a product list"))?;
        if let Some(setup) = product_search_setup(backend) {
            tx.execute_raw(setup)
                .await
                .map_err(unexpected("setting the trigram threshold"))?;
        }
        let statement = ordered(filtered.clone(), backend, listing, page).build(backend);
        let rows = product::Entity::find()
            .from_raw_sql(statement)
            .all(&tx)
            .await
            .map_err(unexpected("listing products"))?;
        let total = filtered
            .count(&tx)
            .await
            .map_err(unexpected("counting products"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a product list"))?;
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

/// Builds the exact page statement [`SeaProductRepository`]'s public search runs for
/// `query` on `backend`, or `None` when the search text has no searchable word and the
/// repository answers an empty page without asking the database.
///
/// Public so that tests can `EXPLAIN` precisely what the repository executes (after
/// [`product_search_setup`], in the same transaction).
#[must_use]
pub fn product_search_statement(
    backend: DbBackend,
    query: &ProductQuery,
    page: PageRequest,
) -> Option<Statement> {
    let listing = Listing::public(query);
    let select = filtered(backend, &listing)?;
    Some(ordered(select, backend, &listing, page).build(backend))
}

/// The statement a search transaction runs first on `backend`, if any: on PostgreSQL it
/// sets the trigram threshold for this transaction only (`SET LOCAL`).
#[must_use]
pub fn product_search_setup(backend: DbBackend) -> Option<Statement> {
    (backend == DbBackend::Postgres).then(|| {
        Statement::from_string(
            backend,
            format!("SET LOCAL pg_trgm.strict_word_similarity_threshold = {TRIGRAM_THRESHOLD}"),
        )
    })
}

/// What a list asks of the database, whichever port asked.
struct Listing<'a> {
    words: Option<Vec<String>>,
    status: Option<ProductStatus>,
    category: Option<&'a Category>,
    tags: &'a [Tag],
    price: Option<PriceRange>,
    sort: ProductSort,
}

impl<'a> Listing<'a> {
    fn public(query: &'a ProductQuery) -> Self {
        Self {
            words: query.q.as_ref().map(search_words),
            status: Some(ProductStatus::Published),
            category: query.category.as_ref(),
            tags: query.tags.as_slice(),
            price: query.price,
            sort: query.sort,
        }
    }

    fn admin(filter: &'a ProductFilter) -> Self {
        Self {
            words: filter.q.as_ref().map(search_words),
            status: filter.status,
            category: filter.category.as_ref(),
            tags: &[],
            price: None,
            sort: ProductSort::Newest,
        }
    }
}

/// The words of a search: lower-cased runs of letters and digits, at most
/// [`MAX_SEARCH_WORDS`]. Everything else (quotes, `*`, `%`, parentheses, operators) only
/// separates words, so no input can be read as query syntax by either backend.
fn search_words(text: &SearchText) -> Vec<String> {
    text.as_str()
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_SEARCH_WORDS)
        .map(str::to_owned)
        .collect()
}

/// The rows of a list without order or paging (also what the total counts); `None` when
/// the search has no word and so matches nothing.
fn filtered(backend: DbBackend, listing: &Listing<'_>) -> Option<Select<product::Entity>> {
    let mut select = product::Entity::find();
    if let Some(words) = &listing.words {
        if words.is_empty() {
            return None;
        }
        select = match backend {
            DbBackend::Postgres => select.filter(Expr::cust_with_values(
                // The tsquery is served by the GIN index on `search_vector`, the trigram
                // operator by the one on `lower(title)` (a BitmapOr of both).
                "(products.search_vector @@ to_tsquery('english', $1) \
                  OR $2 <<% lower(products.title))",
                [postgres_tsquery(words), words.join(" ")],
            )),
            _ => {
                let mut select = select;
                QueryTrait::query(&mut select).join(
                    JoinType::InnerJoin,
                    Alias::new("products_fts"),
                    Expr::cust("products_fts.rowid = products.search_rowid"),
                );
                select.filter(Expr::cust_with_values(
                    "products_fts MATCH ?",
                    [sqlite_match(words)],
                ))
            }
        };
    }
    if let Some(status) = listing.status {
        select = select.filter(product::Column::Status.eq(status.as_str()));
    }
    if let Some(category) = listing.category {
        select = select.filter(product::Column::Category.eq(category.as_str()));
    }
    if !listing.tags.is_empty() {
        select = match backend {
            DbBackend::Postgres => {
                let wanted: Vec<&str> = listing.tags.iter().map(Tag::as_str).collect();
                let json = serde_json::Value::from(wanted).to_string();
                // Served by the GIN index on `(tags::jsonb)`.
                select.filter(Expr::cust_with_values(
                    "(products.tags::jsonb) @> ($1::jsonb)",
                    [json],
                ))
            }
            _ => listing.tags.iter().fold(select, |select, tag| {
                select.filter(Expr::cust_with_values(
                    "EXISTS (SELECT 1 FROM json_each(products.tags) WHERE json_each.value = ?)",
                    [tag.as_str().to_owned()],
                ))
            }),
        };
    }
    if let Some(range) = listing.price {
        select = select.filter(product::Column::Currency.eq(range.currency().as_str()));
        if let Some(min) = range.min_minor() {
            select = select.filter(product::Column::PriceMinor.gte(min));
        }
        if let Some(max) = range.max_minor() {
            select = select.filter(product::Column::PriceMinor.lte(max));
        }
    }
    Some(select)
}

/// `filtered` in the listing's order, one page of it. Price orders break ties by id in the
/// same direction (matching the `(status, price_minor, id)` index); the others by newest,
/// then id.
fn ordered(
    mut select: Select<product::Entity>,
    backend: DbBackend,
    listing: &Listing<'_>,
    page: PageRequest,
) -> Select<product::Entity> {
    let query = QueryTrait::query(&mut select);
    match (listing.sort, &listing.words) {
        (ProductSort::PriceAsc, _) => {
            query
                .order_by((product::Entity, product::Column::PriceMinor), Order::Asc)
                .order_by((product::Entity, product::Column::Id), Order::Asc);
        }
        (ProductSort::PriceDesc, _) => {
            query
                .order_by((product::Entity, product::Column::PriceMinor), Order::Desc)
                .order_by((product::Entity, product::Column::Id), Order::Desc);
        }
        (ProductSort::Relevance, Some(words)) => {
            let rank = match backend {
                DbBackend::Postgres => Expr::cust_with_values(
                    "ts_rank(products.search_vector, to_tsquery('english', $1)) \
                     + strict_word_similarity($2, lower(products.title))",
                    [postgres_tsquery(words), words.join(" ")],
                ),
                _ => Expr::cust(SQLITE_RANK),
            };
            let best_first = if backend == DbBackend::Postgres {
                Order::Desc
            } else {
                // bm25() is more negative for a better match.
                Order::Asc
            };
            query
                .order_by_expr(rank, best_first)
                .order_by((product::Entity, product::Column::CreatedAt), Order::Desc)
                .order_by((product::Entity, product::Column::Id), Order::Desc);
        }
        (ProductSort::Relevance | ProductSort::Newest, _) => {
            query
                .order_by((product::Entity, product::Column::CreatedAt), Order::Desc)
                .order_by((product::Entity, product::Column::Id), Order::Desc);
        }
    }
    query.offset(page.offset()).limit(u64::from(page.limit()));
    select
}

/// `'word1':* & 'word2':*`: every word, as a quoted prefix term. The words hold only
/// letters and digits, so quoting cannot be escaped.
fn postgres_tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{w}':*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// `"word1"* "word2"*`: every word, as a quoted prefix term (FTS5 ANDs them). The words
/// hold only letters and digits, so the quotes cannot be escaped and `OR`, `NEAR` or `*`
/// typed by a user are plain words.
fn sqlite_match(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prepares a write transaction on `products` (a unit of work's).
///
/// On SQLite it first runs a statement that reads `products`, so that this connection
/// notices a schema change made by another connection (a migration, say) and reloads its
/// schema before the real write is prepared. Without it, SQLite 3.51 fails to prepare a
/// `DELETE` (or an `UPDATE` touching a foreign key) on a connection whose schema is stale
/// and which has not yet opened the FTS5 table the triggers write to, with "no such table:
/// products", once per connection. The write lock taken by `BEGIN IMMEDIATE` means no
/// schema change can slip in between.
pub(crate) async fn prepare_product_write(tx: &DatabaseTransaction) -> Result<(), DbErr> {
    if tx.get_database_backend() == DbBackend::Sqlite {
        tx.execute_unprepared("SELECT 1 FROM products LIMIT 0")
            .await?;
    }
    Ok(())
}

/// `SlugTaken` for a clash on the unique slug, `Unexpected` for anything else.
fn write_error(context: &'static str) -> impl FnOnce(DbErr) -> CatalogError {
    move |err| {
        if is_unique_violation(&err, "ux_products_slug", "products.slug") {
            CatalogError::SlugTaken
        } else {
            CatalogError::Unexpected(Unexpected::new(context, err))
        }
    }
}

/// `ProductSold` when an order line still references the product (the service's sales
/// check lost a race), `Unexpected` for anything else.
fn delete_error(context: &'static str) -> impl FnOnce(DbErr) -> CatalogError {
    move |err| match err.sql_err() {
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => CatalogError::ProductSold,
        _ => CatalogError::Unexpected(Unexpected::new(context, err)),
    }
}

fn to_row(product: &Product) -> Result<product::Model, CatalogError> {
    let tags: Vec<&str> = product.tags.as_slice().iter().map(Tag::as_str).collect();
    let tags =
        serde_json::to_string(&tags).map_err(|e| Unexpected::new("encoding product tags", e))?;
    let asset = product.asset.as_ref();
    let asset_size = asset
        .map(|a| i64::try_from(a.size))
        .transpose()
        .map_err(|e| Unexpected::new("product file size exceeds i64", e))?;
    Ok(product::Model {
        id: product.id.as_uuid(),
        slug: product.slug.as_str().to_owned(),
        title: product.title.as_str().to_owned(),
        description: product.description.as_str().to_owned(),
        price_minor: product.price.amount_minor(),
        currency: product.price.currency().as_str().to_owned(),
        category: product.category.as_str().to_owned(),
        tags,
        status: product.status.as_str().to_owned(),
        asset_key: asset.map(|a| a.key.as_str().to_owned()),
        asset_file_name: asset.map(|a| a.file_name.as_str().to_owned()),
        asset_content_type: asset.map(|a| a.content_type.clone()),
        asset_size,
        asset_sha256: asset.map(|a| a.sha256_hex.clone()),
        preview_image_url: product
            .preview_image_url
            .as_ref()
            .map(|u| u.as_str().to_owned()),
        cover_key: product.cover.as_ref().map(|c| c.key.clone()),
        cover_content_type: product.cover.as_ref().map(|c| c.content_type.clone()),
        cover_size: product
            .cover
            .as_ref()
            .map(|c| i64::try_from(c.size))
            .transpose()
            .map_err(|e| Unexpected::new("product cover size exceeds i64", e))?,
        created_by: product.created_by.as_uuid(),
        created_at: product.created_at,
        updated_at: product.updated_at,
        published_at: product.published_at,
        version: product.version,
    })
}

/// Rebuilds a product through the domain constructors; a row that breaks a rule is a bug
/// or tampering, never silently accepted.
fn from_row(row: product::Model) -> Result<Product, CatalogError> {
    let id = row.id;
    let tags: Vec<String> = serde_json::from_str(&row.tags).map_err(invalid(id, "tags"))?;
    let currency = Currency::parse(&row.currency).map_err(invalid(id, "currency"))?;
    let asset = match (
        row.asset_key,
        row.asset_file_name,
        row.asset_content_type,
        row.asset_size,
        row.asset_sha256,
    ) {
        (None, None, None, None, None) => None,
        (Some(key), Some(file_name), Some(content_type), Some(size), Some(sha256_hex)) => {
            Some(ProductAsset {
                key: AssetKey::parse(&key).map_err(invalid(id, "asset_key"))?,
                file_name: FileName::parse(&file_name).map_err(invalid(id, "asset_file_name"))?,
                content_type,
                size: u64::try_from(size).map_err(invalid(id, "asset_size"))?,
                sha256_hex,
            })
        }
        _ => {
            return Err(CatalogError::Unexpected(Unexpected::msg(format!(
                "products row {id} has a partial file (asset_* columns must be set together)"
            ))));
        }
    };
    let cover = match (row.cover_key, row.cover_content_type, row.cover_size) {
        (None, None, None) => None,
        (Some(key), Some(content_type), Some(size)) => Some(StoredImage {
            key,
            content_type,
            size: u64::try_from(size).map_err(invalid(id, "cover_size"))?,
        }),
        _ => {
            return Err(CatalogError::Unexpected(Unexpected::msg(format!(
                "products row {id} has a partial cover (cover_* columns must be set together)"
            ))));
        }
    };
    Ok(Product {
        id: ProductId::from_uuid(id),
        slug: Slug::parse(&row.slug).map_err(invalid(id, "slug"))?,
        title: ProductTitle::parse(&row.title).map_err(invalid(id, "title"))?,
        description: ProductDescription::parse(&row.description)
            .map_err(invalid(id, "description"))?,
        price: Money::new(row.price_minor, currency).map_err(invalid(id, "price_minor"))?,
        category: Category::parse(&row.category).map_err(invalid(id, "category"))?,
        tags: Tags::parse(&tags).map_err(invalid(id, "tags"))?,
        status: ProductStatus::from_str(&row.status).map_err(invalid(id, "status"))?,
        asset,
        preview_image_url: row
            .preview_image_url
            .as_deref()
            .map(PreviewUrl::parse)
            .transpose()
            .map_err(invalid(id, "preview_image_url"))?,
        cover,
        created_by: UserId::from_uuid(row.created_by),
        created_at: row.created_at,
        updated_at: row.updated_at,
        published_at: row.published_at,
        version: row.version,
    })
}

fn invalid<E>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> CatalogError
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("products", id, field)
}

/// Inserts `product` on `conn` (the pool or a unit of work's transaction).
pub(crate) async fn insert_product<C: ConnectionTrait>(
    conn: &C,
    product: &Product,
) -> Result<(), CatalogError> {
    let row = to_row(product)?;
    product::Entity::insert(row.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(write_error("inserting a product"))?;
    Ok(())
}

/// Saves every mutable field of `product` on `conn` if its stored version is still
/// `expected_version`, in one guarded statement: no row means the version moved on or the
/// row is gone (`Conflict`).
pub(crate) async fn update_product<C: ConnectionTrait>(
    conn: &C,
    product: &Product,
    expected_version: i64,
) -> Result<(), CatalogError> {
    let mut changes = to_row(product)?.into_active_model().reset_all();
    // Identity, creator and creation time never change.
    changes.id = NotSet;
    changes.created_by = NotSet;
    changes.created_at = NotSet;
    let updated = product::Entity::update_many()
        .set(changes)
        .filter(product::Column::Id.eq(product.id.as_uuid()))
        .filter(product::Column::Version.eq(expected_version))
        .exec(conn)
        .await
        .map_err(write_error("updating a product"))?;
    if updated.rows_affected == 0 {
        return Err(CatalogError::Conflict);
    }
    Ok(())
}

/// Deletes a product on `conn`; `false` when there was none. The foreign keys from order
/// lines are immediate, so a sold product fails here (`ProductSold`), not at the commit.
pub(crate) async fn delete_product<C: ConnectionTrait>(
    conn: &C,
    id: ProductId,
) -> Result<bool, CatalogError> {
    let deleted = product::Entity::delete_by_id(id.as_uuid())
        .exec(conn)
        .await
        .map_err(delete_error("deleting a product"))?;
    Ok(deleted.rows_affected > 0)
}

#[async_trait]
impl ProductRepository for SeaProductRepository {
    async fn find(&self, id: ProductId) -> Result<Option<Product>, CatalogError> {
        product::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a product"))?
            .map(from_row)
            .transpose()
    }

    async fn find_by_slug(&self, slug: &Slug) -> Result<Option<Product>, CatalogError> {
        // Served by the unique index on the (already normalised) slug.
        product::Entity::find()
            .filter(product::Column::Slug.eq(slug.as_str()))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a product by slug"))?
            .map(from_row)
            .transpose()
    }

    async fn list_admin(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        self.list(&Listing::admin(filter), page).await
    }

    async fn published_after(
        &self,
        after: Option<ProductId>,
        limit: u32,
    ) -> Result<Vec<Product>, CatalogError> {
        let mut select = product::Entity::find()
            .filter(product::Column::Status.eq(ProductStatus::Published.as_str()));
        if let Some(after) = after {
            select = select.filter(product::Column::Id.gt(after.as_uuid()));
        }
        select
            .order_by_asc(product::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(unexpected("reading a batch of published products"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn count_published(&self) -> Result<u64, CatalogError> {
        Ok(product::Entity::find()
            .filter(product::Column::Status.eq(ProductStatus::Published.as_str()))
            .count(&self.db)
            .await
            .map_err(unexpected("counting published products"))?)
    }
}

#[async_trait]
impl ProductSearch for SeaProductRepository {
    async fn search(
        &self,
        query: &ProductQuery,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        self.list(&Listing::public(query), page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(raw: &str) -> Vec<String> {
        search_words(&SearchText::parse(raw).expect("valid search"))
    }

    #[test]
    fn search_input_is_reduced_to_words_that_cannot_be_syntax() {
        let cases: [(&str, &[&str]); 5] = [
            ("Invoice  Template", &["invoice", "template"]),
            (
                "\"quoted\" OR NEAR(a b) *",
                &["quoted", "or", "near", "a", "b"],
            ),
            ("50% off_now", &["50", "off", "now"]),
            ("it's", &["it", "s"]),
            ("*** %%% ()", &[]),
        ];
        for (raw, expected) in cases {
            assert_eq!(words(raw), expected, "{raw}");
        }
        let many = (0..30)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(words(&many).len(), MAX_SEARCH_WORDS);
    }

    #[test]
    fn words_become_quoted_prefix_terms() {
        let words = vec!["invoice".to_owned(), "or".to_owned()];
        assert_eq!(sqlite_match(&words), "\"invoice\"* \"or\"*");
        assert_eq!(postgres_tsquery(&words), "'invoice':* & 'or':*");
    }

    #[test]
    fn a_search_without_words_gets_no_statement() {
        let query = ProductQuery {
            q: Some(SearchText::parse("%%%").expect("valid search")),
            ..ProductQuery::default()
        };
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            assert!(product_search_statement(backend, &query, PageRequest::default()).is_none());
        }
    }
}
