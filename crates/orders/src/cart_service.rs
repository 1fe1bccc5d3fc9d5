//! The cart as buyers see it: current prices, and which items cannot be bought.

use std::sync::Arc;

use nexus_catalog::ProductId;
use nexus_kernel::{Actor, Clock, Currency, Money, Unexpected, UserId};

use crate::{CartStore, EntitlementRepository, OrdersError, ProductCatalog, PurchasableProduct};

/// Why a cart item cannot be bought now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CartIssue {
    /// The product no longer exists.
    Removed,
    /// The product exists but is not published.
    Unpublished,
    /// The buyer already owns it.
    AlreadyOwned,
    /// It is priced in another currency than the rest of the cart (the cart's currency is
    /// that of its oldest buyable item). Only carts filled before the store's currency
    /// rules can hold one: adding such a product is refused.
    OtherCurrency,
    /// Adding its price would take the total past what an amount can hold. Only carts
    /// filled before the catalog's price ceiling can hold one.
    TotalTooLarge,
}

impl CartIssue {
    /// The stable wire name (`removed`, `unpublished`, `already_owned`).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Removed => "removed",
            Self::Unpublished => "unpublished",
            Self::AlreadyOwned => "already_owned",
            Self::OtherCurrency => "other_currency",
            Self::TotalTooLarge => "total_too_large",
        }
    }
}

/// One item of a cart, priced now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    /// The product.
    pub product_id: ProductId,
    /// Its current title; `None` when the product no longer exists.
    pub title: Option<String>,
    /// Its current price; `None` when the product no longer exists.
    pub price: Option<Money>,
    /// Why it cannot be bought now; `None` when it can.
    pub issue: Option<CartIssue>,
}

impl CartLine {
    /// Whether the item can be bought now (and so counts in the total).
    #[must_use]
    pub const fn available(&self) -> bool {
        self.issue.is_none()
    }
}

/// A cart: its items in the order they were added, and the total of those that can be
/// bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    /// Items, oldest first; unavailable ones are shown with their issue.
    pub lines: Vec<CartLine>,
    /// Sum of the current prices of the available lines, in the cart's currency (zero in
    /// the store currency for an empty cart).
    pub total: Money,
}

impl Cart {
    /// The lines with `issue`.
    pub fn with_issue(&self, issue: CartIssue) -> impl Iterator<Item = &CartLine> {
        self.lines.iter().filter(move |l| l.issue == Some(issue))
    }
}

/// The cart rules: only published products that the buyer does not own go in, each at most
/// once, and the cart always shows current prices. Every signed-in user has a cart,
/// whatever their role.
pub struct CartService {
    store: Arc<dyn CartStore>,
    catalog: Arc<dyn ProductCatalog>,
    entitlements: Arc<dyn EntitlementRepository>,
    clock: Arc<dyn Clock>,
    store_currency: Currency,
}

impl CartService {
    /// Builds the service from its ports.
    #[must_use]
    pub fn new(
        store: Arc<dyn CartStore>,
        catalog: Arc<dyn ProductCatalog>,
        entitlements: Arc<dyn EntitlementRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            catalog,
            entitlements,
            clock,
            store_currency: Currency::INR,
        }
    }

    /// Sets the currency of an empty cart's total (INR unless set).
    #[must_use]
    pub const fn with_store_currency(mut self, currency: Currency) -> Self {
        self.store_currency = currency;
        self
    }

    /// The actor's cart, priced now.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn view(&self, actor: &Actor) -> Result<Cart, OrdersError> {
        let user = actor.user_id();
        let items = self.store.items(user).await?;
        let mut lines = Vec::with_capacity(items.len());
        for item in items {
            let (product, issue) =
                assess(&*self.catalog, &*self.entitlements, user, item.product_id).await?;
            lines.push(CartLine {
                product_id: item.product_id,
                title: product.as_ref().map(|p| p.title.clone()),
                price: product.as_ref().map(|p| p.price),
                issue,
            });
        }
        let total = price_lines(&mut lines, self.store_currency)?;
        Ok(Cart { lines, total })
    }

    /// Puts a product in the actor's cart (nothing happens if it is already there) and
    /// returns the cart.
    ///
    /// # Errors
    /// `ProductUnavailable` when the product does not exist or is not published;
    /// `AlreadyOwned` when the actor owns it; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %product_id))]
    pub async fn add(&self, actor: &Actor, product_id: ProductId) -> Result<Cart, OrdersError> {
        let user = actor.user_id();
        match assess(&*self.catalog, &*self.entitlements, user, product_id).await? {
            (None, _) | (_, Some(CartIssue::Removed | CartIssue::Unpublished)) => {
                return Err(OrdersError::ProductUnavailable(product_id));
            }
            (_, Some(CartIssue::AlreadyOwned)) => {
                return Err(OrdersError::AlreadyOwned(product_id));
            }
            (Some(product), None) => {
                let cart = self.view(actor).await?;
                if !cart.lines.iter().any(|l| l.product_id == product_id) {
                    if cart.lines.iter().any(CartLine::available)
                        && cart.total.currency() != product.price.currency()
                    {
                        return Err(OrdersError::CurrencyConflict {
                            cart: cart.total.currency(),
                            product: product_id,
                            price: product.price.currency(),
                        });
                    }
                    if cart.total.checked_add(product.price).is_err() {
                        return Err(OrdersError::CartTotalTooLarge);
                    }
                }
            }
            // `assess` leaves these to `price_lines`, which judges the whole cart.
            (Some(_), Some(CartIssue::OtherCurrency | CartIssue::TotalTooLarge)) => {}
        }
        if self.store.add(user, product_id, self.clock.now()).await? {
            tracing::info!("product added to cart");
        }
        self.view(actor).await
    }

    /// Takes a product out of the actor's cart (nothing happens if it is not there) and
    /// returns the cart.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %product_id))]
    pub async fn remove(&self, actor: &Actor, product_id: ProductId) -> Result<Cart, OrdersError> {
        self.store.remove(actor.user_id(), product_id).await?;
        self.view(actor).await
    }

    /// Empties the actor's cart.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn clear(&self, actor: &Actor) -> Result<(), OrdersError> {
        self.store.clear(actor.user_id()).await?;
        Ok(())
    }
}

/// Looks a product up and says whether `user` can buy it now, and if not why. The checks
/// run in this order: exists, published, not owned.
pub(crate) async fn assess(
    catalog: &dyn ProductCatalog,
    entitlements: &dyn EntitlementRepository,
    user: UserId,
    product_id: ProductId,
) -> Result<(Option<PurchasableProduct>, Option<CartIssue>), OrdersError> {
    let Some(product) = catalog.purchasable(product_id).await? else {
        return Ok((None, Some(CartIssue::Removed)));
    };
    let issue = if !product.status_published {
        Some(CartIssue::Unpublished)
    } else if entitlements.owns(user, product_id).await? {
        Some(CartIssue::AlreadyOwned)
    } else {
        None
    };
    Ok((Some(product), issue))
}

/// Totals the buyable lines, oldest first, in the currency of the oldest one (`empty`
/// when there is none). A line in another currency is marked `OtherCurrency`, and one whose
/// price would overflow the total `TotalTooLarge`; neither counts. So a cart filled before
/// the catalog's currency and price rules still shows, and never fails to add up.
pub(crate) fn price_lines(lines: &mut [CartLine], empty: Currency) -> Result<Money, OrdersError> {
    let currency = lines
        .iter()
        .filter(|l| l.available())
        .find_map(|l| l.price)
        .map_or(empty, |p| p.currency());
    let mut total = Money::new(0, currency).map_err(Unexpected::with("zero is a valid amount"))?;
    for line in lines.iter_mut().filter(|l| l.available()) {
        let Some(price) = line.price else { continue };
        if price.currency() != currency {
            line.issue = Some(CartIssue::OtherCurrency);
            continue;
        }
        match total.checked_add(price) {
            Ok(sum) => total = sum,
            Err(_) => line.issue = Some(CartIssue::TotalTooLarge),
        }
    }
    Ok(total)
}

#[cfg(test)]
#[path = "cart_service_tests.rs"]
mod tests;
