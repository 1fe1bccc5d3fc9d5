use nexus_catalog::ProductId;
use nexus_kernel::{Currency, Money, Unexpected};

use crate::{OrderStatus, PaymentError};

/// Everything that can go wrong with carts, orders, payments, refunds and invoices.
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    /// No such order (or product, file or invoice), or not one the caller may see: its
    /// existence never leaks.
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this at all.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// Checkout needs at least one product in the cart.
    #[error("the cart is empty")]
    CartEmpty,
    /// The product does not exist or is not published, so it cannot be bought.
    #[error("product {0} is not available")]
    ProductUnavailable(ProductId),
    /// The buyer already owns the product (digital products are bought once).
    #[error("you already own product {0}")]
    AlreadyOwned(ProductId),
    /// Checkout refused: some products of the cart cannot be bought. Both lists are
    /// complete, so the buyer can fix the cart in one go.
    #[error("some products in the cart cannot be bought")]
    CartNotPurchasable {
        /// Products that no longer exist or are not published.
        unavailable: Vec<ProductId>,
        /// Products the buyer already owns.
        owned: Vec<ProductId>,
    },
    /// The product is priced in another currency than the cart: a cart (and so an order)
    /// holds one currency.
    #[error("the cart is in {cart}; product {product} is priced in {price}")]
    CurrencyConflict {
        /// The cart's currency (that of its oldest buyable item).
        cart: Currency,
        /// The product that does not fit.
        product: ProductId,
        /// Its currency.
        price: Currency,
    },
    /// The cart's total would exceed what an amount can hold.
    #[error("the cart's total is too large; remove some products")]
    CartTotalTooLarge,
    /// A checkout callback or webhook whose signature does not verify. Nothing changed.
    #[error("the payment signature is invalid")]
    InvalidSignature,
    /// The order's current status does not allow this action.
    #[error("cannot {action} an order that is {from}")]
    InvalidTransition {
        /// The order's current status.
        from: OrderStatus,
        /// What was attempted (`pay`, `fail`, `cancel`, ...).
        action: &'static str,
    },
    /// A refund above what remains refundable.
    #[error("at most {} (minor units) can still be refunded", remaining.amount_minor())]
    RefundTooLarge {
        /// What may still be refunded.
        remaining: Money,
    },
    /// The order is not (or no longer) refundable: unpaid, or already fully refunded.
    #[error("this order cannot be refunded")]
    NotRefundable,
    /// A refund of zero, or in another currency than the order's.
    #[error("a refund must be more than zero, in the order's currency")]
    InvalidRefundAmount,
    /// The action exists only with the development payment gateway.
    #[error("only available with the development payment gateway")]
    DevGatewayOnly,
    /// The order is paid but its invoice is still being generated.
    #[error("the invoice is not ready yet")]
    InvoiceNotReady,
    /// Another refund of this order is being made; try again once it is done.
    #[error("another refund of this order is in progress")]
    RefundInProgress,
    /// The buyer already has this many orders waiting for payment.
    #[error("you already have {limit} unpaid orders; pay or let one expire first")]
    TooManyPendingOrders {
        /// The cap.
        limit: u32,
    },
    /// The gateway has not captured this payment (yet): nothing changed; the gateway's
    /// webhook settles the order once it does.
    #[error("the payment is not captured at the gateway")]
    PaymentNotCaptured,
    /// The gateway's payment is not for this order, or not for its amount and currency.
    #[error("the payment does not match the order")]
    PaymentMismatch,
    /// The money was captured but cannot pay this order (closed, paid by another payment,
    /// or products already owned): it is refunded automatically.
    #[error("the payment cannot be applied to this order; it is being refunded")]
    PaymentNotApplied,
    /// The order changed while this change was being made; try again.
    #[error("the order was changed by someone else")]
    Conflict,
    /// The payment gateway refused or failed (`PaymentError::Unexpected` becomes
    /// `OrdersError::Unexpected` instead).
    #[error(transparent)]
    Payment(PaymentError),
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<PaymentError> for OrdersError {
    fn from(err: PaymentError) -> Self {
        match err {
            PaymentError::Unexpected(e) => Self::Unexpected(e),
            other => Self::Payment(other),
        }
    }
}

impl From<crate::CartStoreError> for OrdersError {
    fn from(err: crate::CartStoreError) -> Self {
        Self::Unexpected(err.0)
    }
}
