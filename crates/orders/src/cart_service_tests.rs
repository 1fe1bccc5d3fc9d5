//! Unit tests of `CartService` against mocked ports.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::{Clock, Currency, FixedClock, Money, Role, UserId};

use super::*;
use crate::{CartItem, MockCartStore, MockEntitlementRepository, MockProductCatalog};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid amount")
}

fn product(title: &str, minor: i64, published: bool) -> PurchasableProduct {
    PurchasableProduct {
        id: ProductId::new(),
        title: title.to_owned(),
        price: inr(minor),
        status_published: published,
        asset_key: None,
        asset_file_name: None,
    }
}

/// A catalog holding exactly `products`.
fn catalog_of(products: &[PurchasableProduct]) -> MockProductCatalog {
    let by_id: HashMap<ProductId, PurchasableProduct> =
        products.iter().map(|p| (p.id, p.clone())).collect();
    let mut catalog = MockProductCatalog::new();
    catalog
        .expect_purchasable()
        .returning(move |id| Ok(by_id.get(&id).cloned()));
    catalog
}

/// `user` owns exactly `owned`.
fn entitlements_of(user: UserId, owned: &[ProductId]) -> MockEntitlementRepository {
    let owned: HashSet<ProductId> = owned.iter().copied().collect();
    let mut entitlements = MockEntitlementRepository::new();
    entitlements
        .expect_owns()
        .returning(move |u, p| Ok(u == user && owned.contains(&p)));
    entitlements.expect_list().never();
    entitlements
}

/// A store whose cart for `user` holds `items`; writes are expected by each test.
fn store_with(user: UserId, items: &[ProductId]) -> MockCartStore {
    let items: Vec<CartItem> = items
        .iter()
        .map(|&product_id| CartItem {
            product_id,
            added_at: now(),
        })
        .collect();
    let mut store = MockCartStore::new();
    store
        .expect_items()
        .returning(move |u| Ok(if u == user { items.clone() } else { vec![] }));
    store
}

fn service(
    store: MockCartStore,
    catalog: MockProductCatalog,
    entitlements: MockEntitlementRepository,
) -> CartService {
    CartService::new(
        Arc::new(store),
        Arc::new(catalog),
        Arc::new(entitlements),
        Arc::new(FixedClock::default()),
    )
}

#[tokio::test]
async fn the_cart_shows_current_prices_and_flags_what_cannot_be_bought() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let book = product("Book", 49_900, true);
    let course = product("Course", 100_000, true);
    let hidden = product("Draft", 5_000, false);
    let owned = product("Owned", 7_000, true);
    let gone = ProductId::new();
    let items = [book.id, hidden.id, gone, owned.id, course.id];
    let service = service(
        store_with(buyer.user_id(), &items),
        catalog_of(&[book.clone(), course.clone(), hidden.clone(), owned.clone()]),
        entitlements_of(buyer.user_id(), &[owned.id]),
    );

    let cart = service.view(&buyer).await.expect("cart");

    let summary: Vec<_> = cart
        .lines
        .iter()
        .map(|l| {
            (
                l.product_id,
                l.title.as_deref(),
                l.price,
                l.issue,
                l.available(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (book.id, Some("Book"), Some(inr(49_900)), None, true),
            (
                hidden.id,
                Some("Draft"),
                Some(inr(5_000)),
                Some(CartIssue::Unpublished),
                false
            ),
            (gone, None, None, Some(CartIssue::Removed), false),
            (
                owned.id,
                Some("Owned"),
                Some(inr(7_000)),
                Some(CartIssue::AlreadyOwned),
                false
            ),
            (course.id, Some("Course"), Some(inr(100_000)), None, true),
        ]
    );
    assert_eq!(cart.total, inr(149_900), "only available lines count");
}

#[tokio::test]
async fn an_empty_cart_totals_zero_without_asking_the_catalog() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let mut catalog = MockProductCatalog::new();
    catalog.expect_purchasable().never();

    let cart = service(
        store_with(buyer.user_id(), &[]),
        catalog,
        entitlements_of(buyer.user_id(), &[]),
    )
    .view(&buyer)
    .await
    .expect("cart");

    assert!(cart.lines.is_empty());
    assert_eq!(cart.total, inr(0));
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("USD").expect("valid")).expect("valid amount")
}

#[tokio::test]
async fn a_cart_filled_before_the_currency_and_price_rules_still_adds_up() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let book = product("Book", 49_900, true);
    let dollars = PurchasableProduct {
        price: usd(1_000),
        ..product("Dollars", 0, true)
    };
    let huge = product("Huge", i64::MAX, true);
    let bigger = product("Bigger", i64::MAX, true);
    let items = [book.id, dollars.id, huge.id, bigger.id];
    let service = service(
        store_with(buyer.user_id(), &items),
        catalog_of(&[book.clone(), dollars.clone(), huge.clone(), bigger.clone()]),
        entitlements_of(buyer.user_id(), &[]),
    );

    let cart = service.view(&buyer).await.expect("never fails to add up");

    let issues: Vec<_> = cart.lines.iter().map(|l| (l.product_id, l.issue)).collect();
    assert_eq!(
        issues,
        vec![
            (book.id, None),
            (dollars.id, Some(CartIssue::OtherCurrency)),
            (huge.id, Some(CartIssue::TotalTooLarge)),
            (bigger.id, Some(CartIssue::TotalTooLarge)),
        ]
    );
    assert_eq!(cart.total, inr(49_900), "only the lines that add up count");
    assert_eq!(
        CartIssue::OtherCurrency.as_str(),
        "other_currency",
        "wire names are stable"
    );
}

#[tokio::test]
async fn a_product_in_another_currency_or_that_overflows_the_total_is_refused_before_any_write() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let book = product("Book", 1, true);
    let dollars = PurchasableProduct {
        price: usd(1_000),
        ..product("Dollars", 0, true)
    };
    let huge = product("Huge", i64::MAX, true);
    let mut store = store_with(buyer.user_id(), &[book.id]);
    store.expect_add().never();
    let service = service(
        store,
        catalog_of(&[book.clone(), dollars.clone(), huge.clone()]),
        entitlements_of(buyer.user_id(), &[]),
    );

    let mixed = service.add(&buyer, dollars.id).await;
    let overflow = service.add(&buyer, huge.id).await;

    match mixed {
        Err(OrdersError::CurrencyConflict {
            cart,
            product,
            price,
        }) => {
            assert_eq!(
                (cart, product, price.as_str()),
                (Currency::INR, dollars.id, "USD")
            );
        }
        other => panic!("expected a currency conflict, got {other:?}"),
    }
    assert!(
        matches!(overflow, Err(OrdersError::CartTotalTooLarge)),
        "{overflow:?}"
    );
}

#[tokio::test]
async fn an_empty_cart_totals_zero_in_the_store_currency() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let cart = service(
        store_with(buyer.user_id(), &[]),
        catalog_of(&[]),
        entitlements_of(buyer.user_id(), &[]),
    )
    .with_store_currency(Currency::parse("USD").expect("valid"))
    .view(&buyer)
    .await
    .expect("cart");

    assert_eq!(cart.total, usd(0));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Published,
    Unpublished,
    Missing,
    Owned,
    /// Published, and already in the cart.
    InCart,
}

#[tokio::test]
async fn only_published_products_the_buyer_does_not_own_go_in_and_only_once() {
    let cases = [
        (Candidate::Published, "added"),
        (Candidate::InCart, "unchanged"),
        (Candidate::Unpublished, "unavailable"),
        (Candidate::Missing, "unavailable"),
        (Candidate::Owned, "owned"),
    ];
    for (candidate, expected) in cases {
        // Every role has a cart: staff buy too.
        for role in [Role::Customer, Role::Admin, Role::Cso] {
            let buyer = crate::permissions::actor(UserId::new(), role);
            let p = product("Thing", 1_000, candidate != Candidate::Unpublished);
            let in_catalog: Vec<_> = if candidate == Candidate::Missing {
                vec![]
            } else {
                vec![p.clone()]
            };
            let owned: Vec<_> = if candidate == Candidate::Owned {
                vec![p.id]
            } else {
                vec![]
            };
            let already: Vec<_> = if candidate == Candidate::InCart {
                vec![p.id]
            } else {
                vec![]
            };
            let mut store = store_with(buyer.user_id(), &already);
            let (user, id) = (buyer.user_id(), p.id);
            let may_add = matches!(candidate, Candidate::Published | Candidate::InCart);
            store
                .expect_add()
                .withf(move |u, p, at| *u == user && *p == id && *at == now())
                .times(usize::from(may_add))
                .returning(move |_, _, _| Ok(candidate == Candidate::Published));
            let service = service(
                store,
                catalog_of(&in_catalog),
                entitlements_of(user, &owned),
            );

            let result = service.add(&buyer, p.id).await;

            let got = match &result {
                Ok(_) if candidate == Candidate::Published => "added",
                Ok(_) => "unchanged",
                Err(OrdersError::ProductUnavailable(got)) if *got == p.id => "unavailable",
                Err(OrdersError::AlreadyOwned(got)) if *got == p.id => "owned",
                Err(_) => "other",
            };
            assert_eq!(got, expected, "{candidate:?} as {role}: {result:?}");
        }
    }
}

#[tokio::test]
async fn removing_and_clearing_touch_only_the_actors_cart() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let user = buyer.user_id();
    let p = product("Thing", 1_000, true);
    let mut store = store_with(user, &[]);
    store
        .expect_remove()
        .withf(move |u, id| *u == user && *id == p.id)
        .times(1)
        .returning(|_, _| Ok(false));
    store
        .expect_clear()
        .withf(move |u| *u == user)
        .times(1)
        .returning(|_| Ok(()));
    let service = service(store, catalog_of(&[]), entitlements_of(user, &[]));

    let after_remove = service.remove(&buyer, p.id).await.expect("removed");
    service.clear(&buyer).await.expect("cleared");

    assert!(after_remove.lines.is_empty());
}

#[tokio::test]
async fn a_failing_cart_store_is_unexpected() {
    let buyer = crate::permissions::actor(UserId::new(), Role::Customer);
    let mut store = MockCartStore::new();
    store.expect_items().returning(|_| {
        Err(crate::CartStoreError(nexus_kernel::Unexpected::msg(
            "redis down",
        )))
    });

    let result = service(
        store,
        catalog_of(&[]),
        entitlements_of(buyer.user_id(), &[]),
    )
    .view(&buyer)
    .await;

    assert!(matches!(result, Err(OrdersError::Unexpected(_))));
}
