//! The shared cart-store cases live in `nexus_orders::testkit`; this module only generates
//! one test per case for an adapter fixture.

/// Generates one `#[tokio::test]` per conformance case. `$setup` is an async fn returning
/// `Option<F>` (`None` skips the case) where `F` has `store(&self) -> &dyn CartStore` and
/// `async cleanup(self)`.
macro_rules! conformance_tests {
    ($setup:path) => {
        conformance_tests!(@cases $setup;
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
    };
    (@cases $setup:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(fixture) = $setup().await else { return };
                nexus_orders::testkit::$case(fixture.store()).await;
                fixture.cleanup().await;
            }
        )+
    };
}

pub(crate) use conformance_tests;
