//! What every `CartStore` must do, as plain async functions over `&dyn CartStore`, so that
//! every adapter (Redis, in-process, database) runs the same cases. Enabled by the `testkit`
//! feature; adapters use it from their tests. Times are whole milliseconds unless a case says
//! otherwise, since that is the precision stores keep.

#![expect(
    clippy::missing_panics_doc,
    reason = "test cases panic on purpose when a store misbehaves"
)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_util::future::join;
use nexus_catalog::ProductId;
use nexus_kernel::UserId;

use crate::{CartItem, CartStore};

/// 2026-01-01T00:00:00Z plus `millis`.
fn at(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_767_225_600_000 + millis)
        .single()
        .expect("valid time")
}

fn products(items: &[CartItem]) -> Vec<ProductId> {
    items.iter().map(|i| i.product_id).collect()
}

/// Conformance case: a user without a cart has no items.
pub async fn a_user_without_a_cart_has_no_items(store: &dyn CartStore) {
    let items = store.items(UserId::new()).await.expect("items");

    assert!(items.is_empty());
}

/// Conformance case: items are listed oldest first with their times.
pub async fn items_are_listed_oldest_first_with_their_times(store: &dyn CartStore) {
    let user = UserId::new();
    let (a, b, c) = (ProductId::new(), ProductId::new(), ProductId::new());

    assert!(store.add(user, a, at(2_000)).await.expect("add a"));
    assert!(store.add(user, b, at(0)).await.expect("add b"));
    assert!(store.add(user, c, at(1_000)).await.expect("add c"));
    let items = store.items(user).await.expect("items");

    assert_eq!(
        items,
        vec![
            CartItem {
                product_id: b,
                added_at: at(0)
            },
            CartItem {
                product_id: c,
                added_at: at(1_000)
            },
            CartItem {
                product_id: a,
                added_at: at(2_000)
            },
        ]
    );
}

/// Conformance case: adding a product twice keeps it once with its first time.
pub async fn adding_a_product_twice_keeps_it_once_with_its_first_time(store: &dyn CartStore) {
    let user = UserId::new();
    let product = ProductId::new();
    assert!(store.add(user, product, at(0)).await.expect("first add"));

    let added_again = store
        .add(user, product, at(5_000))
        .await
        .expect("second add");

    assert!(!added_again);
    let items = store.items(user).await.expect("items");
    assert_eq!(
        items,
        vec![CartItem {
            product_id: product,
            added_at: at(0)
        }]
    );
}

/// Conformance case: products added in the same millisecond are ordered by id.
pub async fn products_added_in_the_same_millisecond_are_ordered_by_id(store: &dyn CartStore) {
    let user = UserId::new();
    let mut ids: Vec<ProductId> = (0..5).map(|_| ProductId::new()).collect();
    for id in ids.iter().rev() {
        assert!(store.add(user, *id, at(0)).await.expect("add"));
    }

    let items = store.items(user).await.expect("items");

    ids.sort_by_key(ProductId::as_uuid);
    assert_eq!(products(&items), ids);
}

/// Conformance case: times are kept to the millisecond.
pub async fn times_are_kept_to_the_millisecond(store: &dyn CartStore) {
    let user = UserId::new();
    let product = ProductId::new();
    let precise = at(1_234) + Duration::nanoseconds(567_891);

    store.add(user, product, precise).await.expect("add");
    let items = store.items(user).await.expect("items");

    assert_eq!(items.len(), 1);
    assert_eq!(items[0].added_at, at(1_234));
}

/// Conformance case: removing says whether the product was there.
pub async fn removing_says_whether_the_product_was_there(store: &dyn CartStore) {
    let user = UserId::new();
    let (kept, removed) = (ProductId::new(), ProductId::new());
    store.add(user, kept, at(0)).await.expect("add kept");
    store.add(user, removed, at(1)).await.expect("add removed");

    let first = store.remove(user, removed).await.expect("first remove");
    let second = store.remove(user, removed).await.expect("second remove");
    let never_added = store
        .remove(user, ProductId::new())
        .await
        .expect("remove unknown");

    assert!(first);
    assert!(!second);
    assert!(!never_added);
    assert_eq!(
        products(&store.items(user).await.expect("items")),
        vec![kept]
    );
}

/// Conformance case: removing from a missing cart is not an error.
pub async fn removing_from_a_missing_cart_is_not_an_error(store: &dyn CartStore) {
    let removed = store
        .remove(UserId::new(), ProductId::new())
        .await
        .expect("remove");

    assert!(!removed);
}

/// Conformance case: removing the last product leaves an empty cart.
pub async fn removing_the_last_product_leaves_an_empty_cart(store: &dyn CartStore) {
    let user = UserId::new();
    let product = ProductId::new();
    store.add(user, product, at(0)).await.expect("add");

    assert!(store.remove(user, product).await.expect("remove"));

    assert!(store.items(user).await.expect("items").is_empty());
}

/// Conformance case: a removed product can be added again with a new time.
pub async fn a_removed_product_can_be_added_again_with_a_new_time(store: &dyn CartStore) {
    let user = UserId::new();
    let product = ProductId::new();
    store.add(user, product, at(0)).await.expect("add");
    store.remove(user, product).await.expect("remove");

    let added = store
        .add(user, product, at(9_000))
        .await
        .expect("add again");

    assert!(added);
    let items = store.items(user).await.expect("items");
    assert_eq!(
        items,
        vec![CartItem {
            product_id: product,
            added_at: at(9_000)
        }]
    );
}

/// Conformance case: clearing empties only that users cart.
pub async fn clearing_empties_only_that_users_cart(store: &dyn CartStore) {
    let (user, other) = (UserId::new(), UserId::new());
    store.add(user, ProductId::new(), at(0)).await.expect("add");
    store.add(user, ProductId::new(), at(1)).await.expect("add");
    let others = ProductId::new();
    store.add(other, others, at(2)).await.expect("add other");

    store.clear(user).await.expect("clear");

    assert!(store.items(user).await.expect("items").is_empty());
    assert_eq!(
        products(&store.items(other).await.expect("other items")),
        vec![others]
    );
}

/// Conformance case: clearing a missing cart is not an error.
pub async fn clearing_a_missing_cart_is_not_an_error(store: &dyn CartStore) {
    store.clear(UserId::new()).await.expect("clear");
}

/// Conformance case: carts of different users are independent.
pub async fn carts_of_different_users_are_independent(store: &dyn CartStore) {
    let (alice, bob) = (UserId::new(), UserId::new());
    let shared = ProductId::new();

    assert!(store.add(alice, shared, at(0)).await.expect("alice adds"));
    assert!(
        store
            .add(bob, shared, at(7))
            .await
            .expect("bob adds the same product")
    );
    assert!(store.remove(alice, shared).await.expect("alice removes"));

    assert!(store.items(alice).await.expect("alice items").is_empty());
    let bobs = store.items(bob).await.expect("bob items");
    assert_eq!(
        bobs,
        vec![CartItem {
            product_id: shared,
            added_at: at(7)
        }]
    );
}

/// Conformance case: concurrent adds of one product succeed exactly once.
pub async fn concurrent_adds_of_one_product_succeed_exactly_once(store: &dyn CartStore) {
    let user = UserId::new();
    let product = ProductId::new();

    // Four adds polled concurrently (no runtime needed here: the test's runtime drives them).
    let ((r1, r2), (r3, r4)) = join(
        join(
            store.add(user, product, at(1)),
            store.add(user, product, at(2)),
        ),
        join(
            store.add(user, product, at(3)),
            store.add(user, product, at(4)),
        ),
    )
    .await;

    let wins = [r1, r2, r3, r4]
        .into_iter()
        .map(|r| r.expect("add"))
        .filter(|added| *added)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(store.items(user).await.expect("items").len(), 1);
}
