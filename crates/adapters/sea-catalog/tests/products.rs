//! `SeaProductRepository` on every backend: storage, slugs, versions, the public search
//! (filters, sorts, relevance, hostile input) and the staff list; on PostgreSQL also typo
//! tolerance and the query plan of a search over 50,000 products.

mod common;

use std::time::Instant;

use common::{Products, at};
use nexus_catalog::ProductId;
use nexus_catalog::{
    AssetKey, CatalogError, Category, FileName, PreviewUrl, PriceRange, Product, ProductAsset,
    ProductDescription, ProductFilter, ProductQuery, ProductRepository, ProductSearch, ProductSort,
    ProductStatus, ProductTitle, SearchText, Slug, Tags,
};
use nexus_kernel::{Currency, Money, Page, PageRequest, Role, UserId};
use nexus_outbox::Routes;
use nexus_sea_catalog::{SeaProductRepository, product_search_setup, product_search_statement};
use nexus_sea_support::{DatabaseConnection, DbBackend};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid money")
}

/// A DRAFT product without a file, priced 100.00 INR, in "templates", created at
/// `at(created)`.
fn product(slug: &str, title: &str, creator: UserId, created: i64) -> Product {
    Product {
        id: ProductId::new(),
        slug: Slug::parse(slug).expect("valid slug"),
        title: ProductTitle::parse(title).expect("valid title"),
        description: ProductDescription::empty(),
        price: inr(10_000),
        category: Category::parse("templates").expect("valid category"),
        tags: Tags::default(),
        status: ProductStatus::Draft,
        asset: None,
        preview_image_url: None,
        cover: None,
        created_by: creator,
        created_at: at(created),
        updated_at: at(created),
        published_at: None,
        version: 1,
    }
}

fn asset(id: ProductId) -> ProductAsset {
    ProductAsset {
        key: AssetKey::parse(&format!(
            "products/{id}/0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b-file.pdf"
        ))
        .expect("valid key"),
        file_name: FileName::parse("Invoice template.pdf").expect("valid name"),
        content_type: "application/pdf".to_owned(),
        size: 123_456,
        sha256_hex: "ab".repeat(32),
    }
}

/// `p`, PUBLISHED with a file.
fn published(mut p: Product) -> Product {
    p.asset = Some(asset(p.id));
    p.status = ProductStatus::Published;
    p.published_at = Some(p.created_at);
    p
}

fn described(mut p: Product, description: &str) -> Product {
    p.description = ProductDescription::parse(description).expect("valid description");
    p
}

fn in_category(mut p: Product, category: &str) -> Product {
    p.category = Category::parse(category).expect("valid category");
    p
}

fn tagged(mut p: Product, tags: &[&str]) -> Product {
    p.tags = Tags::parse(tags).expect("valid tags");
    p
}

fn priced(mut p: Product, money: Money) -> Product {
    p.price = money;
    p
}

async fn insert_all(repo: &Products, products: &[Product]) {
    for p in products {
        repo.insert(p).await.expect("insert product");
    }
}

fn ids(page: &Page<Product>) -> Vec<ProductId> {
    page.items.iter().map(|p| p.id).collect()
}

fn text(raw: &str) -> Option<SearchText> {
    Some(SearchText::parse(raw).expect("valid search"))
}

async fn search(repo: &Products, query: ProductQuery) -> Page<Product> {
    repo.search(&query, PageRequest::new(Some(1), Some(100)))
        .await
        .expect("search")
}

fn words(raw: &str) -> ProductQuery {
    ProductQuery {
        q: text(raw),
        ..ProductQuery::default()
    }
}

/// A creator (products need a real user) and a repository.
async fn setup(db: &DatabaseConnection) -> (Products, UserId) {
    let creator = common::staff(db, Role::Manager).await;
    (Products::new(db, Routes::default()), creator)
}

// ---- storage --------------------------------------------------------------------------

#[tokio::test]
async fn a_product_round_trips_every_field() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let mut full = tagged(
            described(
                published(product("invoice-template", "Invoice template", creator, 10)),
                "A tidy GST invoice.\nWith totals.",
            ),
            &["gst", "invoice"],
        );
        full.preview_image_url =
            Some(PreviewUrl::parse("https://cdn.example.com/i.png").expect("valid url"));
        full.updated_at = at(20);
        full.version = 7;
        let bare = product("bare", "Bare", creator, 30);

        insert_all(&repo, &[full.clone(), bare.clone()]).await;

        assert_eq!(
            repo.find(full.id).await.expect("find"),
            Some(full.clone()),
            "{}",
            t.backend
        );
        assert_eq!(repo.find(bare.id).await.expect("find"), Some(bare));
        assert_eq!(
            repo.find_by_slug(&full.slug).await.expect("find by slug"),
            Some(full)
        );
        assert_eq!(repo.find(ProductId::new()).await.expect("find"), None);
        let unknown = Slug::parse("unknown").expect("valid slug");
        assert_eq!(repo.find_by_slug(&unknown).await.expect("find"), None);
    }
}

#[tokio::test]
async fn a_slug_belongs_to_one_product() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let first = product("same", "First", creator, 0);
        let mut second = product("other", "Second", creator, 1);
        insert_all(&repo, &[first.clone(), second.clone()]).await;

        let clash = product("same", "Clash", creator, 2);
        let inserted = repo.insert(&clash).await;
        second.slug = first.slug.clone();
        second.version = 2;
        let updated = repo.update(&second, 1).await;

        assert!(
            matches!(inserted, Err(CatalogError::SlugTaken)),
            "{}: {inserted:?}",
            t.backend
        );
        assert!(
            matches!(updated, Err(CatalogError::SlugTaken)),
            "{updated:?}"
        );
    }
}

#[tokio::test]
async fn an_update_needs_the_current_version() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let original = product("versioned", "Versioned", creator, 0);
        insert_all(&repo, std::slice::from_ref(&original)).await;
        let mut next = published(original.clone());
        next.title = ProductTitle::parse("Versioned, v2").expect("title");
        next.version = 2;
        next.updated_at = at(5);

        repo.update(&next, 1).await.expect("update from version 1");
        let stale = repo.update(&next, 1).await;
        let mut ghost = next.clone();
        ghost.id = ProductId::new();
        let missing = repo.update(&ghost, 1).await;

        assert!(
            matches!(stale, Err(CatalogError::Conflict)),
            "{}",
            t.backend
        );
        assert!(matches!(missing, Err(CatalogError::Conflict)));
        let stored = repo.find(next.id).await.expect("find").expect("exists");
        assert_eq!(stored, next);
        assert_eq!(stored.created_at, original.created_at);
    }
}

#[tokio::test]
async fn a_deleted_product_is_gone_and_no_longer_found_by_search() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let doomed = published(product("doomed", "Zeppelin manual", creator, 0));
        insert_all(&repo, std::slice::from_ref(&doomed)).await;
        assert_eq!(search(&repo, words("zeppelin")).await.total, 1);

        let first = repo.delete(doomed.id).await.expect("delete");
        let second = repo.delete(doomed.id).await.expect("delete again");

        assert!(first && !second, "{}", t.backend);
        assert_eq!(repo.find(doomed.id).await.expect("find"), None);
        assert_eq!(search(&repo, words("zeppelin")).await.total, 0);
        // The slug is free again.
        repo.insert(&product("doomed", "Reborn", creator, 1))
            .await
            .expect("slug reusable");
    }
}

#[tokio::test]
async fn a_product_referenced_elsewhere_is_sold_and_not_deleted() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let sold = product("sold", "Sold", creator, 0);
        insert_all(&repo, std::slice::from_ref(&sold)).await;
        // Stands in for the orders' line items, which reference products.
        t.db.execute_unprepared(
            "CREATE TABLE sale_probe (product_id uuid NOT NULL REFERENCES products (id))",
        )
        .await
        .expect("create probe table");
        let insert = Statement::from_sql_and_values(
            t.db.get_database_backend(),
            if t.is_postgres() {
                "INSERT INTO sale_probe (product_id) VALUES ($1)"
            } else {
                "INSERT INTO sale_probe (product_id) VALUES (?)"
            },
            [sold.id.as_uuid().into()],
        );
        t.db.execute_raw(insert)
            .await
            .expect("reference the product");

        let result = repo.delete(sold.id).await;

        assert!(
            matches!(result, Err(CatalogError::ProductSold)),
            "{}: {result:?}",
            t.backend
        );
        assert!(repo.find(sold.id).await.expect("find").is_some());
    }
}

#[tokio::test]
async fn writes_survive_a_schema_change_made_by_another_connection() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let mut products: Vec<Product> = (0..8)
            .map(|i| published(product(&format!("p{i}"), "Walrus guide", creator, i)))
            .collect();
        insert_all(&repo, &products).await;
        // Let several pooled connections load the schema, then change it on one of them,
        // as a migration would.
        for _ in 0..4 {
            search(&repo, words("walrus")).await;
        }
        t.db.execute_unprepared("CREATE TABLE schema_bump (x integer)")
            .await
            .expect("change the schema");

        for (i, p) in products.iter_mut().enumerate() {
            if i % 2 == 0 {
                p.version = 2;
                let updated = repo.update(p, 1).await;
                assert!(updated.is_ok(), "{}: update {i}: {updated:?}", t.backend);
            } else {
                let deleted = repo.delete(p.id).await;
                assert!(
                    matches!(deleted, Ok(true)),
                    "{}: delete {i}: {deleted:?}",
                    t.backend
                );
            }
        }
        assert_eq!(
            search(&repo, words("walrus")).await.total,
            4,
            "{}",
            t.backend
        );
    }
}

// ---- the public catalog ---------------------------------------------------------------

#[tokio::test]
async fn the_public_search_returns_only_published_products() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let draft = product("draft", "Invoice draft", creator, 0);
        let live = published(product("live", "Invoice live", creator, 1));
        let mut archived = published(product("archived", "Invoice archived", creator, 2));
        archived.status = ProductStatus::Archived;
        insert_all(&repo, &[draft, live.clone(), archived]).await;

        let all = search(&repo, ProductQuery::default()).await;
        let matching = search(&repo, words("invoice")).await;

        assert_eq!(ids(&all), [live.id], "{}", t.backend);
        assert_eq!(all.total, 1);
        assert_eq!(ids(&matching), [live.id]);
        assert_eq!(matching.total, 1);
    }
}

#[tokio::test]
async fn each_filter_narrows_the_catalog_with_exact_totals() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let cheap_gst = published(tagged(
            priced(product("cheap-gst", "Cheap GST", creator, 0), inr(0)),
            &["gst", "invoice"],
        ));
        let mid_gst = published(tagged(
            priced(product("mid-gst", "Mid GST", creator, 1), inr(50_000)),
            &["gst"],
        ));
        let dear_ebook = published(in_category(
            tagged(
                priced(product("dear-ebook", "Dear ebook", creator, 2), inr(99_900)),
                &["invoice"],
            ),
            "E-Books",
        ));
        let dollars = published(priced(
            product("dollars", "Dollar product", creator, 3),
            Money::new(50_000, Currency::parse("USD").expect("usd")).expect("money"),
        ));
        insert_all(
            &repo,
            &[
                cheap_gst.clone(),
                mid_gst.clone(),
                dear_ebook.clone(),
                dollars.clone(),
            ],
        )
        .await;
        let range = |min, max| Some(PriceRange::new(Currency::INR, min, max).expect("range"));
        let cases = [
            (
                "category",
                ProductQuery {
                    category: Some(Category::parse(" e-books ").expect("category")),
                    ..ProductQuery::default()
                },
                vec![dear_ebook.id],
            ),
            (
                "one tag",
                ProductQuery {
                    tags: Tags::parse(&["gst"]).expect("tags"),
                    ..ProductQuery::default()
                },
                vec![mid_gst.id, cheap_gst.id],
            ),
            (
                "every tag",
                ProductQuery {
                    tags: Tags::parse(&["invoice", "gst"]).expect("tags"),
                    ..ProductQuery::default()
                },
                vec![cheap_gst.id],
            ),
            (
                "unknown tag",
                ProductQuery {
                    tags: Tags::parse(&["nope"]).expect("tags"),
                    ..ProductQuery::default()
                },
                vec![],
            ),
            (
                "min price",
                ProductQuery {
                    price: range(Some(50_000), None),
                    ..ProductQuery::default()
                },
                vec![dear_ebook.id, mid_gst.id],
            ),
            (
                "max price",
                ProductQuery {
                    price: range(None, Some(50_000)),
                    ..ProductQuery::default()
                },
                vec![mid_gst.id, cheap_gst.id],
            ),
            (
                "free only",
                ProductQuery {
                    price: range(Some(0), Some(0)),
                    ..ProductQuery::default()
                },
                vec![cheap_gst.id],
            ),
            (
                "other currency",
                ProductQuery {
                    price: Some(
                        PriceRange::new(Currency::parse("USD").expect("usd"), None, None)
                            .expect("range"),
                    ),
                    ..ProductQuery::default()
                },
                vec![dollars.id],
            ),
            (
                "everything together",
                ProductQuery {
                    q: text("gst"),
                    tags: Tags::parse(&["gst"]).expect("tags"),
                    price: range(Some(1), Some(60_000)),
                    category: Some(Category::parse("templates").expect("category")),
                    sort: ProductSort::Relevance,
                },
                vec![mid_gst.id],
            ),
        ];

        for (label, query, expected) in cases {
            let page = search(&repo, query).await;

            assert_eq!(ids(&page), expected, "{}: {label}", t.backend);
            assert_eq!(page.total, expected.len() as u64, "{}: {label}", t.backend);
        }
    }
}

#[tokio::test]
async fn each_sort_orders_the_catalog_and_pages_are_stable() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let a = published(priced(product("a", "Alpha", creator, 30), inr(300)));
        let b = published(priced(product("b", "Bravo", creator, 10), inr(100)));
        let c = published(priced(product("c", "Charlie", creator, 20), inr(300)));
        let d = published(priced(product("d", "Delta", creator, 40), inr(0)));
        insert_all(&repo, &[a.clone(), b.clone(), c.clone(), d.clone()]).await;
        let (lo, hi) = if a.id < c.id { (&a, &c) } else { (&c, &a) };
        let cases = [
            (ProductSort::Newest, vec![d.id, a.id, c.id, b.id]),
            (ProductSort::Relevance, vec![d.id, a.id, c.id, b.id]),
            (ProductSort::PriceAsc, vec![d.id, b.id, lo.id, hi.id]),
            (ProductSort::PriceDesc, vec![hi.id, lo.id, b.id, d.id]),
        ];

        for (sort, expected) in cases {
            let query = ProductQuery {
                sort,
                ..ProductQuery::default()
            };
            let full = search(&repo, query.clone()).await;
            let second = repo
                .search(&query, PageRequest::new(Some(2), Some(3)))
                .await
                .expect("second page");

            assert_eq!(ids(&full), expected, "{}: {sort:?}", t.backend);
            assert_eq!(ids(&second), &expected[3..], "{}: {sort:?}", t.backend);
            assert_eq!(second.total, 4);
        }
    }
}

#[tokio::test]
async fn a_title_match_ranks_above_a_description_match() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        // The category is searchable too; keep it out of the way here.
        let neutral = |p| in_category(p, "misc");
        let in_description = published(neutral(described(
            product("handbook", "Freelancer handbook", creator, 20),
            "Chapter four includes an invoice template you can copy.",
        )));
        let in_title = published(neutral(product("invoice", "Invoice template", creator, 10)));
        let unrelated = published(neutral(product("icons", "Icon set", creator, 30)));
        let in_tags = published(neutral(tagged(
            product("ledger", "Ledger", creator, 5),
            &["invoices"],
        )));
        let in_category = published(in_category(
            product("pack", "Starter pack", creator, 6),
            "Ledgers",
        ));
        insert_all(
            &repo,
            &[
                in_description.clone(),
                in_title.clone(),
                unrelated,
                in_tags.clone(),
                in_category.clone(),
            ],
        )
        .await;

        let exact = search(&repo, words("invoice template")).await;
        let by_category = search(&repo, words("ledgers")).await;
        let stemmed = search(&repo, words("invoices")).await;
        let prefix = search(&repo, words("templ")).await;

        assert_eq!(
            ids(&exact),
            [in_title.id, in_description.id],
            "{}",
            t.backend
        );
        assert_eq!(exact.total, 2);
        assert_eq!(stemmed.items.first().map(|p| p.id), Some(in_title.id));
        let mut found = ids(&stemmed);
        found.sort();
        let mut expected = vec![in_title.id, in_description.id, in_tags.id];
        expected.sort();
        assert_eq!(found, expected, "{}: stemmed", t.backend);
        assert_eq!(
            ids(&prefix),
            [in_title.id, in_description.id],
            "{}: prefix",
            t.backend
        );
        // "Ledger" in a title outranks "ledgers" as a category.
        assert_eq!(
            ids(&by_category),
            [in_tags.id, in_category.id],
            "{}: category",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_changed_title_is_searched_by_its_new_words_only() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let mut p = published(product("renamed", "Walrus guide", creator, 0));
        insert_all(&repo, std::slice::from_ref(&p)).await;
        p.title = ProductTitle::parse("Narwhal guide").expect("title");
        p.version = 2;

        repo.update(&p, 1).await.expect("update");

        assert_eq!(
            search(&repo, words("walrus")).await.total,
            0,
            "{}",
            t.backend
        );
        assert_eq!(ids(&search(&repo, words("narwhal")).await), [p.id]);
    }
}

#[tokio::test]
async fn hostile_search_text_never_fails() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let p = published(described(
            product("quote", "Quote template", creator, 0),
            "Use it or lose it: 100% near-perfect.",
        ));
        insert_all(&repo, std::slice::from_ref(&p)).await;
        let hostile = [
            "\"",
            "\"quote",
            "quote\" OR \"1\"=\"1",
            "*",
            "quote*",
            "OR",
            "quote OR",
            "AND NOT",
            "NEAR(",
            "NEAR(quote template, 2)",
            "%",
            "100%",
            "_",
            "\\",
            "'; DROP TABLE products; --",
            "title:quote",
            "^quote",
            "quote -template",
            "(((",
            "!",
            "a & b | !c <-> d:*",
            "日本語",
            "€",
        ];

        for raw in hostile {
            let public = repo.search(&words(raw), PageRequest::default()).await;
            let admin = repo
                .list_admin(
                    &ProductFilter {
                        q: text(raw),
                        ..ProductFilter::default()
                    },
                    PageRequest::default(),
                )
                .await;

            assert!(public.is_ok(), "{}: {raw:?}: {public:?}", t.backend);
            assert!(admin.is_ok(), "{}: {raw:?}: {admin:?}", t.backend);
        }
        // Words inside hostile text still match as words.
        assert_eq!(ids(&search(&repo, words("\"quote*")).await), [p.id]);
        assert_eq!(ids(&search(&repo, words("NEAR(quote")).await), [p.id]);
        assert_eq!(search(&repo, words("%")).await.total, 0);
    }
}

#[tokio::test]
async fn a_misspelt_search_finds_the_product_on_postgres() {
    let Some(t) = common::postgres().await else {
        return;
    };
    let (repo, creator) = setup(&t.db).await;
    let wanted = published(product("invoice-template", "Invoice template", creator, 0));
    let other = published(product(
        "table-tennis",
        "Table tennis scoring sheet",
        creator,
        1,
    ));
    insert_all(&repo, &[wanted.clone(), other]).await;

    let typo = search(&repo, words("invoce tempate")).await;
    let short = search(&repo, words("tax")).await;

    assert_eq!(ids(&typo), [wanted.id]);
    assert_eq!(typo.total, 1);
    assert_eq!(
        short.total, 0,
        "a short word must not match every similar title"
    );
}

// ---- the staff list -------------------------------------------------------------------

#[tokio::test]
async fn the_staff_list_shows_every_status_newest_first() {
    for t in common::backends().await {
        let (repo, creator) = setup(&t.db).await;
        let draft = product("draft", "Budget planner", creator, 10);
        let live = published(in_category(
            product("live", "Budget sheet", creator, 20),
            "finance",
        ));
        let mut archived = published(product("archived", "Old planner", creator, 30));
        archived.status = ProductStatus::Archived;
        insert_all(&repo, &[draft.clone(), live.clone(), archived.clone()]).await;
        let cases = [
            (
                ProductFilter::default(),
                vec![archived.id, live.id, draft.id],
            ),
            (
                ProductFilter {
                    status: Some(ProductStatus::Draft),
                    ..ProductFilter::default()
                },
                vec![draft.id],
            ),
            (
                ProductFilter {
                    category: Some(Category::parse("finance").expect("category")),
                    ..ProductFilter::default()
                },
                vec![live.id],
            ),
            (
                ProductFilter {
                    q: text("planner"),
                    ..ProductFilter::default()
                },
                vec![archived.id, draft.id],
            ),
        ];

        for (filter, expected) in cases {
            let page = repo
                .list_admin(&filter, PageRequest::new(Some(1), Some(100)))
                .await
                .expect("list");

            assert_eq!(ids(&page), expected, "{}: {filter:?}", t.backend);
            assert_eq!(page.total, expected.len() as u64);
        }
    }
}

// ---- query plans ----------------------------------------------------------------------

const PRODUCTS: i64 = 50_000;

/// 50,000 products: 90 % PUBLISHED, four categories, and one in a thousand (all
/// PUBLISHED, spread over the categories) titled "Zebrafield planner" so that a search
/// has a selective word. Written around the repository, which the generated
/// `search_vector` does not notice.
fn seed(creator: UserId) -> String {
    format!(
        r#"
INSERT INTO products (id, slug, title, description, price_minor, currency, category, tags,
                      status, created_by, created_at, updated_at, version)
SELECT gen_random_uuid(),
       'bulk-' || g,
       CASE WHEN g % 1000 = 7 THEN 'Zebrafield planner ' || g
            ELSE 'Product ' || substr(md5(g::text), 1, 12) END,
       'Generated description ' || md5(g::text),
       (g % 500) * 100,
       'INR',
       (ARRAY['templates', 'ebooks', 'courses', 'icons'])[1 + (g / 1000) % 4],
       '["bulk"]',
       CASE WHEN g % 10 = 0 THEN 'DRAFT' ELSE 'PUBLISHED' END,
       '{creator}',
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
       1
FROM generate_series(1, {PRODUCTS}) AS g;
ANALYZE products;
"#
    )
}

async fn plan(db: &DatabaseConnection, query: &ProductQuery) -> String {
    let page = product_search_statement(DbBackend::Postgres, query, PageRequest::default())
        .expect("the query can match rows");
    let explain = Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("EXPLAIN {}", page.sql),
        page.values.map(|v| v.0).unwrap_or_default(),
    );
    // The same transaction set-up as the repository, so the plan checked is the plan run.
    let tx = db.begin().await.expect("begin");
    if let Some(setup) = product_search_setup(DbBackend::Postgres) {
        tx.execute_raw(setup).await.expect("setup");
    }
    let lines = tx
        .query_all_raw(explain)
        .await
        .expect("explain")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("plan line"))
        .collect::<Vec<_>>()
        .join("\n");
    tx.rollback().await.expect("rollback");
    lines
}

#[tokio::test]
async fn catalog_searches_use_indexes_on_fifty_thousand_products() {
    let Some(t) = common::postgres().await else {
        return;
    };
    let started = Instant::now();
    let creator = common::staff(&t.db, Role::Manager).await;
    t.db.execute_unprepared(&seed(creator)).await.expect("seed");
    let repo = SeaProductRepository::new(t.db.clone());
    let seeded = started.elapsed();
    let published_total = u64::try_from(PRODUCTS - PRODUCTS / 10).expect("positive");
    let zebras = u64::try_from(PRODUCTS / 1000).expect("positive");
    let cases = [
        ("text search", words("zebrafield"), zebras, false),
        (
            "text search in a category, cheapest first",
            ProductQuery {
                q: text("zebrafield planner"),
                category: Some(Category::parse("templates").expect("category")),
                sort: ProductSort::PriceAsc,
                ..ProductQuery::default()
            },
            // Zebras are g = 1000 k + 7 for k in 0..50; k % 4 == 0 is "templates".
            13,
            false,
        ),
        ("typo", words("zebrafeld"), zebras, false),
        ("newest", ProductQuery::default(), published_total, true),
        (
            "cheapest",
            ProductQuery {
                sort: ProductSort::PriceAsc,
                ..ProductQuery::default()
            },
            published_total,
            true,
        ),
    ];

    for (label, query, expected_total, full_page) in cases {
        let plan = plan(&t.db, &query).await;
        let page = repo
            .search(&query, PageRequest::default())
            .await
            .expect("search");

        assert!(
            !plan.contains("Seq Scan on products"),
            "{label} scans the whole table:\n{plan}"
        );
        assert_eq!(page.total, expected_total, "{label}");
        if full_page {
            assert_eq!(page.items.len(), 20, "{label}");
        }
    }
    assert!(
        started.elapsed().as_secs() < 20,
        "seeding took {seeded:?}, everything {:?}",
        started.elapsed()
    );
}
