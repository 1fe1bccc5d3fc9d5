//! `SeaCartStore` on every backend, through the cart-store conformance suite that the
//! Redis and in-memory stores also pass (`nexus_orders::testkit`),
//! so that the database can stand in for Redis without any visible difference.

mod common;

use nexus_sea_orders::SeaCartStore;

/// Runs one conformance case on a fresh store on every backend.
macro_rules! on_every_backend {
    ($($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                for t in common::backends().await {
                    let store = SeaCartStore::new(t.db.clone());
                    nexus_orders::testkit::$case(&store).await;
                }
            }
        )+
    };
}

on_every_backend!(
    a_user_without_a_cart_has_no_items,
    items_are_listed_oldest_first_with_their_times,
    adding_a_product_twice_keeps_it_once_with_its_first_time,
    products_added_in_the_same_millisecond_are_ordered_by_id,
    times_are_kept_to_the_millisecond,
    removing_says_whether_the_product_was_there,
    removing_from_a_missing_cart_is_not_an_error,
    removing_the_last_product_leaves_an_empty_cart,
    a_removed_product_can_be_added_again_with_a_new_time,
    clearing_empties_only_that_users_cart,
    clearing_a_missing_cart_is_not_an_error,
    carts_of_different_users_are_independent,
    concurrent_adds_of_one_product_succeed_exactly_once,
);
