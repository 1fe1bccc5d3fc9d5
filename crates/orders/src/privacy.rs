//! "My data" in the marketplace: what a buyer's export holds, and what follows the erasure
//! of their account (subscriber `drop_erased_cart`).

use std::sync::Arc;

use async_trait::async_trait;
use nexus_identity::AccountErased;
use nexus_kernel::{Actor, PageRequest};
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::{CartStore, CreditNote, LibraryEntry, Order, OrderQuery, OrderService, OrdersError};

/// At most this many rows of each kind (orders, credit notes, library entries) go into one
/// export; `truncated` tells when there were more.
pub const EXPORT_LIMIT: usize = 1000;

/// Everything the marketplace holds about one buyer, for their "My data" export.
#[derive(Debug)]
pub struct OrdersExport {
    /// Their orders, newest first, with lines, payment and refunds.
    pub orders: Vec<Order>,
    /// The credit notes of their refunds.
    pub credit_notes: Vec<CreditNote>,
    /// The products they own.
    pub library: Vec<LibraryEntry>,
    /// Whether a section held more than [`EXPORT_LIMIT`] rows and was cut.
    pub truncated: bool,
}

impl OrderService {
    /// The actor's own orders (with lines, payment and refunds), the credit notes of those
    /// refunds and their library, at most [`EXPORT_LIMIT`] of each, read a page at a time.
    /// Whatever the actor's role, only their own purchases.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn export(&self, actor: &Actor) -> Result<OrdersExport, OrdersError> {
        let query = OrderQuery {
            user_id: Some(actor.user_id()),
            status: None,
        };
        let mut truncated = false;
        let mut orders = Vec::new();
        let mut page = 1;
        loop {
            let got = self
                .orders
                .list(&query, PageRequest::new(Some(page), Some(100)))
                .await?;
            let more = got.total > u64::from(page) * 100;
            orders.extend(got.items);
            if orders.len() >= EXPORT_LIMIT {
                truncated |= more || orders.len() > EXPORT_LIMIT;
                orders.truncate(EXPORT_LIMIT);
                break;
            }
            if !more {
                break;
            }
            page += 1;
        }
        let mut credit_notes = Vec::new();
        'notes: for order in &orders {
            for refund in order.refunds() {
                if credit_notes.len() >= EXPORT_LIMIT {
                    truncated = true;
                    break 'notes;
                }
                if let Some(note) = self.orders.find_credit_note(&refund.refund_id).await? {
                    credit_notes.push(note);
                }
            }
        }
        let mut library = Vec::new();
        let mut page = 1;
        loop {
            let got = self
                .entitlements
                .list(actor.user_id(), PageRequest::new(Some(page), Some(100)))
                .await?;
            let more = got.total > u64::from(page) * 100;
            library.extend(got.items);
            if library.len() >= EXPORT_LIMIT {
                truncated |= more || library.len() > EXPORT_LIMIT;
                library.truncate(EXPORT_LIMIT);
                break;
            }
            if !more {
                break;
            }
            page += 1;
        }
        Ok(OrdersExport {
            orders,
            credit_notes,
            library,
            truncated,
        })
    }
}

/// Drops the cart of an erased account (subscriber `drop_erased_cart`, on
/// `identity.account_erased`). Orders, payments, invoices and credit notes stay as they
/// are: the law requires them kept, and they name the buyer only through the account, which
/// is anonymised (invoices and credit notes rendered from now on print "Erased Customer";
/// the PDFs already issued are the legal documents and stay unchanged). Emptying an empty
/// cart changes nothing, so a delivery that runs again is harmless.
pub struct DropErasedCart {
    carts: Arc<dyn CartStore>,
}

impl DropErasedCart {
    /// Builds the subscriber over the cart store.
    #[must_use]
    pub fn new(carts: Arc<dyn CartStore>) -> Self {
        Self { carts }
    }
}

#[async_trait]
impl Subscriber for DropErasedCart {
    fn name(&self) -> &'static str {
        "drop_erased_cart"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<AccountErased>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let AccountErased { user_id } = delivery.event.decode()?;
        self.carts
            .clear(user_id)
            .await
            .map_err(|e| DeliveryError::Retryable(e.to_string()))?;
        tracing::info!(user_id = %user_id, "cart of an erased account dropped");
        Ok(())
    }
}
