//! Links to what buyers may download: purchased files, invoices and credit notes. Which
//! file an actor may have is decided by [`OrderService`] and [`InvoiceService`]; this turns
//! that decision into an expiring link through the catalog's [`FileLinks`].

use std::sync::Arc;

use nexus_catalog::ProductId;
use nexus_catalog::{AssetError, FileLinks, SignedLink};
use nexus_kernel::{Actor, Unexpected};

use crate::{DownloadTarget, InvoiceService, OrderId, OrderService, OrdersError};

/// Hands out expiring links to the files an actor may download.
pub struct DownloadService {
    orders: Arc<OrderService>,
    invoices: Arc<InvoiceService>,
    links: Arc<FileLinks>,
}

impl DownloadService {
    /// Links for the files `orders` and `invoices` allow, issued by `links`.
    #[must_use]
    pub fn new(
        orders: Arc<OrderService>,
        invoices: Arc<InvoiceService>,
        links: Arc<FileLinks>,
    ) -> Self {
        Self {
            orders,
            invoices,
            links,
        }
    }

    /// A link to the file of a product the actor owns; the download is recorded.
    ///
    /// # Errors
    /// As [`OrderService::download`]; `Unexpected` when the store cannot issue the link.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %product_id))]
    pub async fn product_file(
        &self,
        actor: &Actor,
        product_id: ProductId,
    ) -> Result<SignedLink, OrdersError> {
        let target = self.orders.download(actor, product_id).await?;
        let link = self.issue(&target).await?;
        // Recorded once the link exists, so only successful downloads are counted.
        self.orders.record_download(actor, product_id).await?;
        Ok(link)
    }

    /// A link to the invoice PDF of an order the actor may see.
    ///
    /// # Errors
    /// As [`InvoiceService::invoice_link`]; `Unexpected` when the store cannot issue the link.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), order_id = %order_id))]
    pub async fn invoice(
        &self,
        actor: &Actor,
        order_id: OrderId,
    ) -> Result<SignedLink, OrdersError> {
        let target = self.invoices.invoice_link(actor, order_id).await?;
        self.issue(&target).await
    }

    /// A link to the credit note PDF of the refund `refund_id` of an order the actor may see.
    ///
    /// # Errors
    /// As [`InvoiceService::credit_note_link`]; `Unexpected` when the store cannot issue
    /// the link.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), order_id = %order_id))]
    pub async fn credit_note(
        &self,
        actor: &Actor,
        order_id: OrderId,
        refund_id: &str,
    ) -> Result<SignedLink, OrdersError> {
        let target = self
            .invoices
            .credit_note_link(actor, order_id, refund_id)
            .await?;
        self.issue(&target).await
    }

    async fn issue(&self, target: &DownloadTarget) -> Result<SignedLink, OrdersError> {
        self.links
            .issue(&target.key, &target.file_name)
            .await
            .map_err(|e| match e {
                // Kept whole, so that the app can still tell an outage from a bug.
                AssetError::Unexpected(e) => OrdersError::Unexpected(e),
                other => OrdersError::Unexpected(Unexpected::new("issuing a download link", other)),
            })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use nexus_catalog::{AssetKey, MockAssetStore};
    use nexus_kernel::{Clock, Currency, FixedClock, Money, Role, UserId};

    use super::*;
    use crate::{
        GatewayKind, InvoiceNumber, MockBuyerDirectory, MockCartStore, MockEntitlementRepository,
        MockInvoiceRenderer, MockOrderRepository, MockPaymentGateway, MockProcessedEvents,
        MockProductCatalog, Order, OrderLine, OrderParts, Seller, SellerConfig,
    };

    fn key() -> AssetKey {
        AssetKey::parse("invoices/2026/INV-2026-000007.pdf").expect("valid key")
    }

    fn invoiced(user: UserId) -> Order {
        let now = FixedClock::default().now();
        let line = OrderLine {
            product_id: ProductId::new(),
            title: "Rust book".into(),
            unit_price: Money::new(49_900, Currency::INR).expect("valid amount"),
        };
        let paid = Order::place(user, vec![line], GatewayKind::Razorpay, now)
            .and_then(|o| o.attach_gateway_order("order_G1", now))
            .expect("valid order")
            .pay("pay_1", now)
            .expect("payable")
            .order
            .with_invoice_number(InvoiceNumber::new(2026, 7).expect("valid"));
        Order::from_parts(OrderParts {
            invoice_key: Some(key()),
            ..paid.into_parts()
        })
        .expect("consistent")
    }

    fn service(order: &Order, assets: MockAssetStore) -> DownloadService {
        let stored = order.clone();
        let mut repo = MockOrderRepository::new();
        repo.expect_find()
            .returning(move |id| Ok((id == stored.id()).then(|| stored.clone())));
        let repo: Arc<dyn crate::OrderRepository> = Arc::new(repo);
        let assets: Arc<dyn nexus_catalog::AssetStore> = Arc::new(assets);
        let clock = Arc::new(FixedClock::default());
        let orders = OrderService::new(
            Arc::new(crate::MockOrdersUnitOfWork::new()),
            Arc::clone(&repo),
            Arc::new(MockProcessedEvents::new()),
            Arc::new(MockEntitlementRepository::new()),
            Arc::new(MockProductCatalog::new()),
            Arc::new(MockCartStore::new()),
            Arc::new(MockPaymentGateway::new()),
            clock.clone(),
        );
        let invoices = InvoiceService::new(
            repo,
            Arc::new(MockBuyerDirectory::new()),
            Arc::new(MockInvoiceRenderer::new()),
            Arc::clone(&assets),
            SellerConfig {
                seller: Seller {
                    name: "Nexus".into(),
                    address_lines: vec![],
                    tax_id: None,
                    email: "billing@example.com".into(),
                },
                included_tax: None,
            },
        );
        let links = FileLinks::new(assets, clock, Duration::minutes(10));
        DownloadService::new(Arc::new(orders), Arc::new(invoices), Arc::new(links))
    }

    #[tokio::test]
    async fn an_invoice_link_names_the_invoice_and_lasts_its_lifetime_from_now() {
        let user = UserId::new();
        let order = invoiced(user);
        let now = FixedClock::default().now();
        let mut assets = MockAssetStore::new();
        assets
            .expect_download_link()
            .withf(move |k, name, ttl, at| {
                *k == key()
                    && name == "INV-2026-000007.pdf"
                    && *ttl == Duration::minutes(10)
                    && *at == now
            })
            .returning(|_, _, ttl, at| {
                Ok(SignedLink {
                    url: "https://files/invoice".to_owned(),
                    expires_at: at + ttl,
                })
            });
        let downloads = service(&order, assets);

        let link = downloads
            .invoice(&crate::permissions::actor(user, Role::Customer), order.id())
            .await;

        assert!(matches!(link, Ok(l) if l.expires_at == now + Duration::minutes(10)));
    }

    #[tokio::test]
    async fn no_link_is_issued_for_someone_elses_invoice() {
        let order = invoiced(UserId::new());
        let mut assets = MockAssetStore::new();
        assets.expect_download_link().never();
        let downloads = service(&order, assets);

        let link = downloads
            .invoice(
                &crate::permissions::actor(UserId::new(), Role::Customer),
                order.id(),
            )
            .await;

        assert!(matches!(link, Err(OrdersError::NotFound)));
    }

    #[tokio::test]
    async fn a_store_that_cannot_issue_the_link_is_unexpected() {
        let user = UserId::new();
        let order = invoiced(user);
        let mut assets = MockAssetStore::new();
        assets
            .expect_download_link()
            .returning(|_, _, _, _| Err(AssetError::Unexpected(Unexpected::msg("store down"))));
        let downloads = service(&order, assets);

        let link = downloads
            .invoice(&crate::permissions::actor(user, Role::Customer), order.id())
            .await;

        assert!(matches!(link, Err(OrdersError::Unexpected(_))));
    }
}
