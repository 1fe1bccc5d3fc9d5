//! The composition root: binds, connects, migrates, builds adapters and services, serves.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use chrono::Duration;
use nexus_approvals::{
    ApprovalService, DeadlineMailPorts, DeadlineMailSubscriber, ResponseMailSubscriber,
};
use nexus_crypto::{BcryptPasswordHasher, JwtConfig, JwtTokenIssuer, TotpAuthenticator};
use nexus_customers::{
    CustomerRepository, CustomerService, EnquiryService, LinkVerifiedAccount, NoteService,
    StaffDirectory, TimelineService,
};
use nexus_identity::{
    AccountExistsMailSubscriber, AccountLinkMailSubscriber, BootstrapOutcome,
    EmailChangeNoticeSubscriber, IdentityConfig, IdentityLinkedNoticeSubscriber, IdentityService,
    OtpMailSubscriber, TwoFactor, UserRepository, WelcomeMailSubscriber,
};
use nexus_identity::{OAuthPorts, OAuthService};
use nexus_kernel::{Clock, Email, RateLimiter, Role, SharedCache, SystemClock};
use nexus_migration::Migrator;
use nexus_notifications::{EmailRenderer, Mailer};
use nexus_outbox::{
    DeliveryAdmin, DeliveryRunner, DeliveryRunnerConfig, DeliveryStore, RoutesHandle, Subscriber,
    SubscriberRegistry,
};
use nexus_sea_approvals::{
    SeaApprovalsUnitOfWork, SeaEnquiryLookup, SeaResponseRepository, SeaStaffContacts,
};
use nexus_sea_catalog::{SeaCatalogUnitOfWork, SeaProductRepository, SeaSalesLedger};
use nexus_sea_crm::{
    SeaCustomerRepository, SeaEnquiryRepository, SeaNoteRepository, SeaStaffDirectory,
    SeaTimelineReader,
};
use nexus_sea_identity::{
    SeaIdentityUnitOfWork, SeaLinkedIdentityStore, SeaOAuthStateStore, SeaOAuthUnitOfWork,
    SeaOtpStore, SeaSessionStore, SeaTotpStore, SeaUserRepository,
};
use nexus_sea_orders::{
    SeaBuyerDirectory, SeaCartStore, SeaEntitlementRepository, SeaOrderRepository,
    SeaOrdersUnitOfWork, SeaProductCatalog,
};
use nexus_sea_outbox::SeaDeliveryStore;
use nexus_sea_support::{DatabaseConnection, TaskLocalRequestId, Transactions};
use nexus_smtp_mailer::{OutboxMailer, Sender, SmtpMailer};
use nexus_templates::{Branding, MinijinjaRenderer};
use sea_orm_migration::MigratorTrait;

use nexus_catalog::{
    AssetStore, CATALOG_CACHE_NAMESPACE, CatalogConfig, FileLinks, IndexProduct,
    InvalidateCatalogCache, ProductIndex, ProductSearch, ProductService,
};
use nexus_invoice_pdf::PdfInvoiceRenderer;
use nexus_meili_search::{MeiliApiKey, MeiliConfig, MeiliPostSearch, MeiliProductSearch};
use nexus_object_store::{LocalAssetStore, S3AssetStore, S3Config, SecretAccessKey};
use nexus_orders::{
    BuyerDirectory, CartService, CartStore, CreditNoteSubscriber, DownloadService,
    EntitlementRepository, IncludedTax, InvoiceService, InvoiceSubscriber,
    OrderConfirmationSubscriber, OrderExpirySubscriber, OrderService, OrdersUnitOfWork,
    PaymentGateway, PaymentReconcileSubscriber, ProductCatalog, RefundNoticeSubscriber, Seller,
    SellerConfig, UnappliedPaymentRefundSubscriber,
};
use nexus_razorpay::{DevelopmentGateway, RazorpayConfig, RazorpayGateway};
use nexus_redis_store::{InMemoryCache, RedisCache, RedisCartStore, RedisRateLimiter};

use crate::cache::ResponseCache;
use crate::http::health::Dependencies;
use crate::http::products::upload::UploadSpool;
use crate::http::runtime::OnRuntime;
use crate::rate_limit::{
    FallbackRateLimiter, InProcessFailureThrottle, InProcessRateLimiter, SHARED_RETRY_EVERY,
};
use crate::settings::Settings;
use crate::state::AppState;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The listener could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// Directory.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The database is unreachable or migrations failed.
    #[error("database: {0}")]
    Database(#[source] nexus_kernel::Unexpected),
    /// The first-start administrator could not be created.
    #[error("creating the first administrator: {0}")]
    Bootstrap(#[source] nexus_identity::IdentityError),
    /// Token or password settings were refused by their adapter.
    #[error("security settings: {0}")]
    Security(String),
    /// Storage settings were refused.
    #[error("storage settings: {0}")]
    Storage(String),
    /// Payment settings were refused.
    #[error("payment settings: {0}")]
    Payments(String),
    /// The search engine could not be set up.
    #[error("search: {0}")]
    Search(String),
    /// Redis could not be reached.
    #[error("redis: {0}")]
    Redis(String),
    /// Mail settings were refused.
    #[error("mail settings: {0}")]
    Mail(String),
    /// The event subscribers could not be registered.
    #[error("subscribers: {0}")]
    Subscribers(String),
    /// Sign-in provider settings were refused.
    #[error("sign-in provider settings: {0}")]
    OAuth(String),
    /// Settings were unusable.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
}

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    /// The dedicated metrics listener (`METRICS_ADDR`) and its port.
    metrics: Option<(u16, Server)>,
    worker: Option<(crate::worker::Runners, std::time::Duration)>,
    grace: std::time::Duration,
}

impl Application {
    /// Binds the listener (port 0 picks a free one), connects, migrates, bootstraps the
    /// first administrator, and prepares the server.
    ///
    /// # Errors
    /// `StartupError` saying which step failed.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        crate::install_crypto_provider();
        // Before anything records: a metric recorded with no recorder installed is lost.
        crate::observability::handle();
        let addr = format!("{}:{}", settings.http.host, settings.http.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartupError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?
            .port();
        let metrics_listener = match &settings.http.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr).map_err(|source| StartupError::Bind {
                    addr: addr.clone(),
                    source,
                })?;
                let port = listener
                    .local_addr()
                    .map_err(|source| StartupError::Bind {
                        addr: addr.clone(),
                        source,
                    })?
                    .port();
                Some((port, listener))
            }
            None => None,
        };

        let db = connect(&settings, settings.database.migrate_on_start).await?;
        let state = compose(&settings, db).await?;
        bootstrap_admin(&state.identity, &settings).await?;

        let worker = settings.worker.in_serve.then(|| {
            (
                state.runner.clone(),
                std::time::Duration::from_millis(settings.worker.poll_ms),
            )
        });
        let state = web::Data::new(state);
        let http = settings.http.clone();
        let metrics = match metrics_listener {
            Some((metrics_port, listener)) => {
                let (state, http) = (state.clone(), http.clone());
                let runtime = tokio::runtime::Handle::current();
                let server = HttpServer::new(move || {
                    crate::http::metrics_app(state.clone(), http.clone())
                        .wrap(OnRuntime::new(runtime.clone()))
                })
                .workers(1)
                .listen(listener)
                .map_err(|source| StartupError::Bind {
                    addr: format!("metrics port {metrics_port}"),
                    source,
                })?
                .run();
                tracing::info!(port = metrics_port, "serving metrics on their own listener");
                Some((metrics_port, server))
            }
            None => None,
        };
        // Whatever a request opens belongs to this (the main) runtime, which outlives the
        // HTTP workers' own: see `crate::http::runtime`.
        let runtime = tokio::runtime::Handle::current();
        let mut server = HttpServer::new(move || {
            crate::http::app(state.clone(), http.clone()).wrap(OnRuntime::new(runtime.clone()))
        });
        if let Some(workers) = settings.http.workers {
            server = server.workers(workers);
        }
        // `run_until_stopped` handles the signals, so that HTTP and the worker stop together
        // within the one grace period.
        let server = server
            .disable_signals()
            .shutdown_timeout(settings.shutdown_grace_secs)
            .listen(listener)
            .map_err(|source| StartupError::Bind {
                addr: format!("port {port}"),
                source,
            })?
            .run();
        tracing::info!(port, env = ?settings.env, sqlite = settings.is_sqlite(), "listening");
        Ok(Self {
            port,
            server,
            metrics,
            worker,
            grace: std::time::Duration::from_secs(settings.shutdown_grace_secs),
        })
    }

    /// The port actually bound.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the dedicated metrics listener, when `METRICS_ADDR` is set.
    #[must_use]
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until the process is told to stop. On SIGTERM (or SIGINT) it stops accepting
    /// connections and closes idle ones, lets in-flight requests finish and the worker finish
    /// the delivery in hand (releasing the rest of its batch), all within the grace period
    /// (`SHUTDOWN_GRACE_SECS`); what is still running then is cut off, and the worker's
    /// deliveries are handed back for another worker. The metrics listener, if any, stops
    /// with the API.
    ///
    /// # Errors
    /// I/O errors from the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        // Registered before serving, so a signal arriving at any point is seen.
        let signal = crate::worker::termination();
        let handle = self.server.handle();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = self.worker.map(|(runners, poll)| {
            let task = tokio::spawn(crate::worker::run(runners.clone(), poll, stopped));
            (task, runners)
        });
        let mut server = std::pin::pin!(self.server);
        let grace = self.grace;
        let ended_early = tokio::select! {
            served = &mut server => Some(served),
            () = signal => None,
        };
        if ended_early.is_none() {
            tracing::info!(
                grace_secs = grace.as_secs(),
                "stopping: no new connections; finishing in-flight requests and the delivery in hand"
            );
            // The command is sent at once; awaiting the server below carries it out, cutting
            // off what is still running when the grace period ends.
            drop(handle.stop(true));
        }
        let _ = stop.send(true);
        let worker = async {
            if let Some((task, runners)) = worker {
                crate::worker::stop(task, &runners, grace).await;
            }
        };
        let served = match ended_early {
            Some(served) => {
                worker.await;
                served
            }
            None => tokio::join!(server, worker).0,
        };
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        tracing::info!("stopped");
        served
    }
}

/// Connects to the configured database (creating the SQLite directory) and migrates if asked.
///
/// # Errors
/// `DataDir` or `Database`.
pub async fn connect(
    settings: &Settings,
    migrate: bool,
) -> Result<DatabaseConnection, StartupError> {
    let url = settings.database.url.expose();
    if let Some(dir) = sqlite_dir(url) {
        std::fs::create_dir_all(&dir).map_err(|source| StartupError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let db = nexus_sea_support::db::connect_with(
        url,
        settings.database.max_connections,
        std::time::Duration::from_secs(settings.database.acquire_timeout_secs),
    )
    .await
    .map_err(StartupError::Database)?;
    if migrate {
        run_migrations(&db).await.map_err(StartupError::Database)?;
    }
    Ok(db)
}

/// Applies every pending migration of [`nexus_migration::Migrator`]: the app owns the schema,
/// no adapter crate runs migrations.
///
/// # Errors
/// `Unexpected` when a migration fails (it is rolled back where the backend allows).
pub async fn run_migrations(db: &DatabaseConnection) -> Result<(), nexus_kernel::Unexpected> {
    Migrator::up(db, None)
        .await
        .map_err(nexus_kernel::Unexpected::with("migrating the database"))
}

/// The directory holding a SQLite database file, if the URL is a file-backed SQLite one.
fn sqlite_dir(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
}

/// The issuer name authenticator apps show next to the account.
const TOTP_ISSUER: &str = "Customer Nexus Hub";

/// Builds adapters and hands them to the services.
///
/// # Errors
/// `Security` when the token or password settings are refused; `Mail` when the mail
/// settings are.
pub async fn compose(
    settings: &Settings,
    db: DatabaseConnection,
) -> Result<AppState, StartupError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Units of work append their events with the subscribers' routes, installed below once
    // every subscriber (which may need a service built on these adapters) is registered.
    let routes = RoutesHandle::new();
    let transactions = Transactions::new(db.clone(), routes.clone(), clock.clone());
    let auth = &settings.auth;
    let jwt_secret = crate::secrets::resolve(
        auth.jwt_secret.as_ref(),
        &settings.data_dir,
        crate::secrets::JWT_SECRET_FILE,
    )
    .map_err(|e| StartupError::Security(format!("JWT_SECRET: {e}")))?;
    let authenticator = TotpAuthenticator::new(jwt_secret.expose().as_bytes());
    let tokens = JwtTokenIssuer::new(JwtConfig {
        secret: jwt_secret.expose().as_bytes().to_vec(),
        issuer: auth.jwt_issuer.clone(),
        audience: auth.jwt_audience.clone(),
        access_ttl: Duration::seconds(auth.access_token_ttl_secs),
    })
    .map_err(|e| StartupError::Security(format!("JWT_SECRET / JWT_ISSUER / JWT_AUDIENCE: {e}")))?;
    let hasher = BcryptPasswordHasher::new(auth.bcrypt_cost)
        .map_err(|e| StartupError::Security(format!("BCRYPT_COST: {e}")))?
        .with_max_in_flight(settings.limits.password_hash_concurrency);

    let users: Arc<dyn UserRepository> = Arc::new(SeaUserRepository::new(db.clone()));
    let customer_repo: Arc<dyn CustomerRepository> =
        Arc::new(SeaCustomerRepository::new(db.clone()));
    let staff: Arc<dyn StaffDirectory> = Arc::new(SeaStaffDirectory::new(db.clone()));
    let enquiry_repo = Arc::new(SeaEnquiryRepository::new(db.clone()));

    let tokens: Arc<dyn nexus_identity::TokenIssuer> = Arc::new(tokens);
    let identity = Arc::new(
        IdentityService::new(
            users.clone(),
            Arc::new(SeaSessionStore::new(db.clone())),
            Arc::new(hasher),
            tokens.clone(),
            Arc::new(SeaOtpStore::new(db.clone())),
            Arc::new(SeaIdentityUnitOfWork::new(transactions.clone())),
            clock.clone(),
            IdentityConfig {
                refresh_ttl: Duration::seconds(auth.refresh_token_ttl_secs),
                grants: crate::access::grants,
                reset_link_ttl: Duration::minutes(auth.password_reset_ttl_minutes),
                email_change_ttl: Duration::minutes(auth.email_change_ttl_minutes),
                invite_link_ttl: Duration::minutes(auth.invite_ttl_minutes),
            },
        )
        .with_two_factor(TwoFactor {
            store: Arc::new(SeaTotpStore::new(db.clone())),
            authenticator: Arc::new(authenticator),
            issuer: TOTP_ISSUER.to_owned(),
            require_staff: auth.require_staff_totp,
        }),
    );
    let oauth = Arc::new(OAuthService::new(OAuthPorts {
        providers: oauth_providers(settings)?,
        states: Arc::new(SeaOAuthStateStore::new(db.clone())),
        identities: Arc::new(SeaLinkedIdentityStore::new(db.clone())),
        uow: Arc::new(SeaOAuthUnitOfWork::new(transactions.clone())),
        users: users.clone(),
        tokens,
        identity: identity.clone(),
        clock: clock.clone(),
    }));
    let customers = Arc::new(CustomerService::new(
        customer_repo.clone(),
        staff.clone(),
        clock.clone(),
    ));
    let enquiries = Arc::new(EnquiryService::new(
        enquiry_repo,
        customer_repo.clone(),
        staff,
        clock.clone(),
    ));
    let mut approvals = ApprovalService::new(
        Arc::new(SeaResponseRepository::new(db.clone())),
        Arc::new(SeaApprovalsUnitOfWork::new(transactions.clone())),
        Arc::new(SeaEnquiryLookup::new(db.clone())),
        customers.clone(),
        clock.clone(),
    );
    // `Settings::validate` already refused a bad policy; this only reports it again.
    let deadlines = settings
        .approvals
        .policy()
        .map_err(|(key, reason)| StartupError::Security(format!("{key}: {reason}")))?;
    if let Some(policy) = deadlines {
        approvals = approvals.with_deadlines(policy);
    }
    let approvals = Arc::new(approvals);

    let MailParts {
        renderer,
        mailer,
        domain: message_domain,
    } = mail(settings)?;

    // The marketplace.
    let mut dependencies =
        Dependencies::default().with(Arc::new(crate::readiness::Database(db.clone())));
    let (assets, s3) = asset_store(settings)?;
    let gateway = payment_gateway(settings)?;
    let (carts, redis) = cart_store(settings, &db).await?;
    if let Some(redis) = redis {
        dependencies = dependencies.with(Arc::new(crate::readiness::Redis(redis)));
    }
    let limiter = rate_limiter(settings).await?;
    let (shared_cache, catalog_cache) = catalog_cache(settings).await?;
    let order_repo = Arc::new(SeaOrderRepository::new(db.clone()));
    let orders_uow: Arc<dyn OrdersUnitOfWork> =
        Arc::new(SeaOrdersUnitOfWork::new(transactions.clone()));
    let entitlements: Arc<dyn EntitlementRepository> =
        Arc::new(SeaEntitlementRepository::new(db.clone()));
    let catalog_view: Arc<dyn ProductCatalog> = Arc::new(SeaProductCatalog::new(db.clone()));
    let buyers: Arc<dyn BuyerDirectory> = Arc::new(SeaBuyerDirectory::new(db.clone()));
    let product_repo = Arc::new(SeaProductRepository::new(db.clone()));
    let storage = &settings.storage;
    let index = product_index(settings).await?;
    if let Some(meili) = &index {
        dependencies = dependencies.with(Arc::new(crate::readiness::Meilisearch(meili.clone())));
    }
    if let Some(s3) = s3 {
        dependencies = dependencies.with(Arc::new(crate::readiness::ObjectStore(s3)));
    }
    let search: Arc<dyn ProductSearch> = match &index {
        Some(meili) => meili.clone(),
        None => product_repo.clone(),
    };
    // With the database search there is no index to feed.
    let index_product: Option<Arc<dyn Subscriber>> = index.map(|meili| {
        let subscriber: Arc<dyn Subscriber> = Arc::new(IndexProduct::new(
            product_repo.clone(),
            meili as Arc<dyn ProductIndex>,
        ));
        subscriber
    });
    let products = Arc::new(ProductService::new(
        product_repo,
        Arc::new(SeaCatalogUnitOfWork::new(transactions.clone())),
        search,
        Arc::new(SeaSalesLedger::new(db.clone())),
        assets.clone(),
        clock.clone(),
        CatalogConfig {
            max_asset_bytes: storage.asset_max_bytes,
            allowed_content_types: storage.asset_content_types.clone(),
            currencies: settings.commerce.currencies.clone(),
            max_price_minor: settings.commerce.max_price_minor,
        },
    ));
    let carts_for_erasure = carts.clone();
    let cart = Arc::new(
        CartService::new(
            carts.clone(),
            catalog_view.clone(),
            entitlements.clone(),
            clock.clone(),
        )
        .with_store_currency(products.store_currency()),
    );
    let commerce = &settings.commerce;
    let orders = Arc::new(
        OrderService::new(
            orders_uow.clone(),
            order_repo.clone(),
            order_repo.clone(),
            entitlements,
            catalog_view,
            carts,
            gateway.clone(),
            clock.clone(),
        )
        .with_pending_order_limit(commerce.order_pending_limit),
    );
    let invoices = Arc::new(InvoiceService::new(
        order_repo.clone(),
        buyers.clone(),
        Arc::new(PdfInvoiceRenderer::new()),
        assets.clone(),
        SellerConfig {
            seller: Seller {
                name: commerce.seller_name.clone(),
                address_lines: commerce.seller_address.clone(),
                tax_id: commerce.seller_tax_id.clone(),
                email: commerce.seller_email.clone(),
            },
            included_tax: commerce
                .invoice_tax
                .clone()
                .map(|(label, rate_basis_points)| IncludedTax {
                    label,
                    rate_basis_points,
                }),
        },
    ));

    let worker = &settings.worker;
    let worker_id = format!("{}-{}", hostname(), uuid::Uuid::now_v7().simple());
    let mut list: Vec<Arc<dyn Subscriber>> = vec![
        Arc::new(InvoiceSubscriber::new(invoices.clone())),
        Arc::new(CreditNoteSubscriber::new(invoices.clone())),
        Arc::new(OrderConfirmationSubscriber::new(
            order_repo.clone(),
            buyers.clone(),
            renderer.clone(),
            mailer.clone(),
            message_domain.clone(),
            settings.mail.public_base_url.clone(),
        )),
        Arc::new(UnappliedPaymentRefundSubscriber::new(
            orders_uow,
            order_repo.clone(),
            gateway,
            clock.clone(),
        )),
        Arc::new(RefundNoticeSubscriber::new(
            order_repo,
            buyers,
            renderer.clone(),
            mailer.clone(),
            message_domain.clone(),
        )),
        Arc::new(OrderExpirySubscriber::new(
            orders.clone(),
            Duration::minutes(commerce.order_expiry_minutes),
        )),
        Arc::new(PaymentReconcileSubscriber::new(
            orders.clone(),
            Duration::seconds(commerce.payment_reconcile_after_secs),
        )),
    ];
    let deadline_ports = || DeadlineMailPorts {
        approvals: approvals.clone(),
        staff: Arc::new(SeaStaffContacts::new(db.clone())),
        renderer: renderer.clone(),
        mailer: mailer.clone(),
        message_domain: message_domain.clone(),
    };
    let reviewers: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| {
            crate::access::grants(*r).contains(&nexus_approvals::permissions::RESPONSES_REVIEW)
        })
        .collect();
    list.extend([
        Arc::new(DeadlineMailSubscriber::warning(deadline_ports(), reviewers))
            as Arc<dyn Subscriber>,
        Arc::new(DeadlineMailSubscriber::escalation(deadline_ports())),
        Arc::new(ResponseMailSubscriber::new(
            approvals.clone(),
            customer_repo,
            renderer.clone(),
            mailer.clone(),
            message_domain.clone(),
        )),
        Arc::new(WelcomeMailSubscriber::new(
            users.clone(),
            renderer.clone(),
            mailer.clone(),
            message_domain.clone(),
        )),
        Arc::new(AccountExistsMailSubscriber::new(
            users.clone(),
            renderer.clone(),
            mailer.clone(),
            message_domain.clone(),
        )),
        Arc::new(EmailChangeNoticeSubscriber::new(
            users.clone(),
            renderer.clone(),
            mailer.clone(),
            message_domain.clone(),
        )),
        Arc::new(IdentityLinkedNoticeSubscriber::new(
            users.clone(),
            renderer.clone(),
            mailer.clone(),
            message_domain.clone(),
        )),
        Arc::new(AccountLinkMailSubscriber::new(
            renderer.clone(),
            mailer.clone(),
            message_domain.clone(),
        )),
        Arc::new(OtpMailSubscriber::new(renderer, mailer, message_domain)),
        Arc::new(LinkVerifiedAccount::new(customers.clone())),
        // "My data": what follows an account's erasure, in each context that holds data.
        Arc::new(nexus_customers::UnlinkErasedCustomer::new(
            enquiries.clone(),
        )),
        Arc::new(nexus_orders::DropErasedCart::new(carts_for_erasure)),
    ]);
    list.extend(index_product);
    // The blog's search: Meilisearch beside the catalog's, or the database's own.
    let post_repo = Arc::new(nexus_sea_content::SeaPostRepository::new(db.clone()));
    let post_index = post_index(settings).await?;
    let post_search: Arc<dyn nexus_content::PostSearch> = match &post_index {
        Some(meili) => meili.clone(),
        None => post_repo.clone(),
    };
    if let Some(meili) = post_index {
        list.push(Arc::new(nexus_content::IndexPost::new(
            post_repo.clone(),
            meili as Arc<dyn nexus_content::PostIndex>,
        )));
    }
    list.push(Arc::new(InvalidateCatalogCache::new(shared_cache.clone())));
    let feedback = Arc::new(nexus_feedback::FeedbackService::new(
        Arc::new(nexus_sea_feedback::SeaFeedbackReader::new(db.clone())),
        Arc::new(nexus_sea_feedback::SeaFeedbackUnitOfWork::new(
            transactions.clone(),
        )),
        Arc::new(nexus_sea_feedback::SeaOwnershipCheck::new(db.clone())),
        Arc::new(crate::feedback::CrmCustomerDirectory::new(
            customers.clone(),
        )),
        clock.clone(),
    ));
    list.push(Arc::new(nexus_feedback::AnonymiseErasedFeedback::new(
        feedback.clone(),
    )));
    list.push(Arc::new(nexus_feedback::InvalidateCatalogRatings::new(
        shared_cache.clone(),
    )));
    // Content.
    let (pages, content_cache) = content(settings, &db, &transactions, &clock, &shared_cache)?;
    list.push(Arc::new(nexus_content::InvalidateContentCache::new(
        shared_cache.clone(),
    )));
    // Redirect rules: every instance holds them in memory, reloaded when the
    // `invalidate_redirects` delivery of a write moves their generation on.
    let redirects = Arc::new(nexus_seo::RedirectService::new(
        Arc::new(nexus_sea_seo::SeaRedirectRepository::new(db.clone())),
        Arc::new(nexus_sea_seo::SeaRedirectUnitOfWork::new(
            transactions.clone(),
        )),
        clock.clone(),
        crate::http::redirects::RESERVED_PREFIXES
            .iter()
            .map(|p| (*p).to_owned())
            .collect(),
    ));
    let redirects_remote = settings.commerce.redis_url.is_some();
    let redirect_table = Arc::new(crate::http::redirects::RedirectTable::new(
        redirects.clone(),
        shared_cache.clone(),
        redirects_remote,
        // Without Redis and without a worker in this process, nothing moves the generation
        // this process reads: the rules are reloaded on age instead.
        (!redirects_remote && !settings.worker.in_serve)
            .then_some(crate::http::redirects::table::UNINVALIDATED_MAX_AGE),
    ));
    list.push(Arc::new(nexus_seo::InvalidateRedirects::new(shared_cache)));
    // Blog bodies are rendered the same way for the public answer and for the SEO audit.
    let markdown: Arc<dyn nexus_content::MarkdownRenderer> = Arc::new(
        nexus_markdown::MarkdownRenderer::new(Some(&settings.mail.public_base_url)),
    );
    // SEO: audits of the products, pages and posts, kept up to date by their events.
    let seo = seo(&db, &transactions, &clock, &markdown, &settings.site.name);
    list.extend([
        Arc::new(nexus_catalog::AuditProductSeo::new(seo.clone())) as Arc<dyn Subscriber>,
        Arc::new(nexus_content::AuditPageSeo::new(seo.clone())),
        Arc::new(nexus_content::AuditPostSeo::new(seo.clone())),
        Arc::new(nexus_seo::RunSeoScan::new(seo.clone())),
    ]);
    let registry = subscribers(list)?;
    routes.install(registry.shared_routes());
    let delivery_store: Arc<dyn DeliveryStore> = Arc::new(SeaDeliveryStore::new(db.clone()));
    let deliveries = Arc::new(
        DeliveryRunner::new(
            delivery_store.clone(),
            Arc::new(registry),
            clock.clone(),
            DeliveryRunnerConfig {
                worker_id,
                lease: Duration::seconds(worker.lease_secs),
                batch: worker.batch,
                max_attempts: worker.max_attempts,
                retry: nexus_outbox::RetryPolicy {
                    base: Duration::seconds(worker.backoff_base_secs),
                    max: Duration::seconds(worker.backoff_max_secs),
                },
            },
        )
        .with_context(Arc::new(TaskLocalRequestId)),
    );
    // Page metrics.
    let analytics = Arc::new(nexus_analytics::AnalyticsService::new(
        Arc::new(nexus_sea_analytics::SeaMetricsStore::new(db.clone())),
        Arc::new(nexus_sea_analytics::SeaSaltStore::new(db.clone())),
        Arc::new(nexus_crypto::Sha256VisitorHasher),
        clock.clone(),
    ));
    let dashboards = Arc::new(nexus_dashboards::DashboardService::new(
        Arc::new(nexus_sea_dashboards::SeaDashboardReader::new(db.clone())),
        clock.clone(),
    ));
    let team_repo = Arc::new(nexus_sea_content::SeaTeamRepository::new(db.clone()));
    let team = Arc::new(nexus_content::TeamService::new(
        team_repo.clone(),
        Arc::new(nexus_sea_content::SeaContentUnitOfWork::new(
            transactions.clone(),
        )),
        assets.clone(),
        clock.clone(),
    ));
    let posts = Arc::new(nexus_content::PostService::new(
        post_repo,
        post_search,
        team_repo,
        Arc::new(nexus_sea_content::SeaContentUnitOfWork::new(
            transactions.clone(),
        )),
        markdown,
        assets.clone(),
        clock.clone(),
    ));
    let links = Arc::new(FileLinks::new(
        assets,
        clock.clone(),
        Duration::seconds(storage.link_ttl_secs),
    ));
    let downloads = Arc::new(DownloadService::new(
        orders.clone(),
        invoices.clone(),
        links.clone(),
    ));
    let notes = Arc::new(NoteService::new(
        Arc::new(SeaCustomerRepository::new(db.clone())),
        Arc::new(SeaNoteRepository::new(db.clone())),
        clock.clone(),
    ));
    let timeline = Arc::new(TimelineService::new(
        Arc::new(SeaCustomerRepository::new(db.clone())),
        Arc::new(SeaTimelineReader::new(db.clone())),
    ));
    Ok(AppState {
        identity,
        oauth,
        oauth_cookie_secure: settings
            .oauth
            .redirect_uri("google", &settings.mail.public_base_url)
            .starts_with("https://"),
        customers,
        enquiries,
        notes,
        timeline,
        approvals: approvals.clone(),
        audit: Arc::new(nexus_audit::AuditService::new(Arc::new(
            nexus_sea_audit::SeaAuditLog::new(db.clone()),
        ))),
        jobs: Arc::new(DeliveryAdmin::new(
            delivery_store.clone(),
            clock,
            worker.max_attempts,
        )),
        deliveries: delivery_store,
        dependencies,
        runner: crate::worker::Runners {
            deliveries,
            metrics_rollup: crate::worker::MetricsRollup {
                analytics: analytics.clone(),
                every: std::time::Duration::from_secs(worker.metrics_rollup_secs),
            },
            pages: pages.clone(),
            posts: posts.clone(),
            approvals,
        },
        limiter,
        failures: Arc::new(InProcessFailureThrottle::default()),
        products,
        catalog_cache,
        site: Arc::new(crate::http::site::SiteFiles::new(
            &settings.mail.public_base_url,
            &settings.site,
        )),
        cart,
        orders,
        invoices,
        downloads,
        links,
        asset_max_bytes: storage.asset_max_bytes,
        uploads: UploadSpool::new(storage.upload_dir.clone(), storage.upload_concurrency)
            .map_err(|e| StartupError::Storage(format!("UPLOAD_DIR: {e}")))?,
        limits: settings.limits.clone(),
        db,
        analytics,
        dashboards,
        feedback,
        pages,
        team,
        posts,
        content_cache,
        seo,
        redirects,
        redirect_table,
    })
}

/// The SEO service: audits kept in the database, the catalog's products and the content's
/// pages and blog posts as its sources, scans queued on the outbox. `/`, `/products` and
/// `/blog` are the storefront paths that are no item.
fn seo(
    db: &DatabaseConnection,
    transactions: &Transactions,
    clock: &Arc<dyn Clock>,
    markdown: &Arc<dyn nexus_content::MarkdownRenderer>,
    site_name: &str,
) -> Arc<nexus_seo::SeoService> {
    let sources: Vec<Arc<dyn nexus_seo::SeoSource>> = vec![
        Arc::new(nexus_catalog::CatalogSeoSource::new(Arc::new(
            SeaProductRepository::new(db.clone()),
        ))),
        Arc::new(nexus_content::ContentSeoSource::new(Arc::new(
            nexus_sea_content::SeaPageRepository::new(db.clone()),
        ))),
        Arc::new(nexus_content::PostSeoSource::new(
            Arc::new(nexus_sea_content::SeaPostRepository::new(db.clone())),
            markdown.clone(),
        )),
    ];
    Arc::new(
        nexus_seo::SeoService::new(
            Arc::new(nexus_sea_seo::SeaFindingsStore::new(db.clone())),
            sources,
            Arc::new(nexus_sea_seo::SeaScanQueue::new(
                transactions.clone(),
                clock.clone(),
            )),
            clock.clone(),
            vec!["/".to_owned(), "/products".to_owned(), "/blog".to_owned()],
        )
        .for_site(site_name),
    )
}

/// The page service (its preview key from `PREVIEW_SIGNING_KEY` or generated into the data
/// directory) and the cache of public page answers, which shares the catalog cache's store
/// (Redis or in process) under its own namespace and follows the same rules: off without
/// Redis when this process runs no worker, or for `CACHE_TTL_SECS=0`.
fn content(
    settings: &Settings,
    db: &DatabaseConnection,
    transactions: &Transactions,
    clock: &Arc<dyn Clock>,
    shared: &Arc<dyn SharedCache>,
) -> Result<(Arc<nexus_content::PageService>, Arc<ResponseCache>), StartupError> {
    let key = crate::secrets::resolve(
        settings.content.preview_signing_key.as_ref(),
        &settings.data_dir,
        crate::secrets::PREVIEW_SIGNING_KEY_FILE,
    )
    .map_err(|e| StartupError::Security(format!("PREVIEW_SIGNING_KEY: {e}")))?;
    let pages = Arc::new(nexus_content::PageService::new(
        Arc::new(nexus_sea_content::SeaPageRepository::new(db.clone())),
        Arc::new(nexus_sea_content::SeaContentUnitOfWork::new(
            transactions.clone(),
        )),
        Arc::new(nexus_crypto::HmacPreviewSigner::new(
            key.expose().as_bytes().to_vec(),
        )),
        clock.clone(),
        Duration::seconds(settings.content.preview_ttl_secs),
    ));
    let remote = settings.commerce.redis_url.is_some();
    let ttl = (remote || settings.worker.in_serve)
        .then(|| std::time::Duration::from_secs(settings.commerce.cache_ttl_secs));
    let cache = ResponseCache::new(
        "content",
        nexus_content::CONTENT_CACHE_NAMESPACE,
        shared.clone(),
        remote,
        ttl,
    );
    Ok((pages, Arc::new(cache)))
}

/// Every subscriber to domain events, each with its own delivery state. This is the one
/// place follow-up work is registered: build the subscriber from its domain crate (or the
/// app) in `compose` and pass it here. Units of work append each event with one delivery
/// per subscriber that wants it, through the routes `compose` installs from this registry.
///
/// # Errors
/// `Subscribers` when two subscribers share a name (a programming error, caught at start).
fn subscribers(list: Vec<Arc<dyn Subscriber>>) -> Result<SubscriberRegistry, StartupError> {
    let mut registry = SubscriberRegistry::new();
    for subscriber in list {
        if !crate::http::jobs::KINDS.contains(&subscriber.name()) {
            return Err(StartupError::Subscribers(format!(
                "subscriber {} is missing from the documented kinds of job (http::jobs::KINDS)",
                subscriber.name()
            )));
        }
        registry
            .register(subscriber)
            .map_err(|e| StartupError::Subscribers(e.to_string()))?;
    }
    Ok(registry)
}

/// How e-mail is made and sent.
struct MailParts {
    renderer: Arc<dyn EmailRenderer>,
    mailer: Arc<dyn Mailer>,
    /// Right-hand side of Message-IDs.
    domain: String,
}

/// The renderer, the mailer (SMTP when `SMTP_URL` is set, else the `.eml` outbox) and the
/// Message-ID domain.
fn mail(settings: &Settings) -> Result<MailParts, StartupError> {
    let m = &settings.mail;
    let bad = |e: &dyn std::fmt::Display| StartupError::Mail(e.to_string());
    let address =
        Email::parse(&m.from_address).map_err(|e| StartupError::Mail(format!("MAIL_FROM: {e}")))?;
    let sender = Sender::new(Some(&m.from_name), &address).map_err(|e| bad(&e))?;
    let renderer: Arc<dyn EmailRenderer> = Arc::new(MinijinjaRenderer::new(Branding {
        product_name: settings.site.name.trim().to_owned(),
        sender_name: m.from_name.clone(),
        footer: m.footer.clone(),
        base_url: m.public_base_url.clone(),
    }));
    let mailer: Arc<dyn Mailer> = match &m.smtp_url {
        Some(url) => Arc::new(
            SmtpMailer::from_url(
                url.expose(),
                sender,
                std::time::Duration::from_secs(m.timeout_secs),
            )
            .map_err(|e| StartupError::Mail(format!("SMTP_URL: {e}")))?,
        ),
        None => Arc::new(OutboxMailer::new(m.outbox_dir.clone(), sender)),
    };
    let domain = address
        .as_str()
        .rsplit('@')
        .next()
        .unwrap_or("nexus.local")
        .to_owned();
    Ok(MailParts {
        renderer,
        mailer,
        domain,
    })
}

/// A store behind its port, with the adapter again when the readiness probe checks it.
type Probed<Port, Adapter> = (Arc<Port>, Option<Arc<Adapter>>);

/// Local files (app-signed links) unless `S3_BUCKET` is set; with S3, its store again for
/// the readiness probe.
fn asset_store(settings: &Settings) -> Result<Probed<dyn AssetStore, S3AssetStore>, StartupError> {
    let st = &settings.storage;
    let bad = |e: &dyn std::fmt::Display| StartupError::Storage(e.to_string());
    match &st.s3_bucket {
        Some(bucket) => {
            let config = S3Config {
                endpoint: st.s3_endpoint.clone(),
                public_endpoint: st.s3_public_endpoint.clone(),
                region: st.s3_region.clone(),
                bucket: bucket.clone(),
                access_key_id: st.s3_access_key_id.clone().unwrap_or_default(),
                secret_access_key: SecretAccessKey::new(
                    st.s3_secret_access_key
                        .as_ref()
                        .map(|s| s.expose().to_owned())
                        .unwrap_or_default(),
                ),
                allow_http: st.s3_allow_http,
            };
            let s3 = Arc::new(S3AssetStore::new(config).map_err(|e| bad(&e))?);
            Ok((s3.clone(), Some(s3)))
        }
        None => {
            // Links have their own key, never one derived from the token secret.
            let key = crate::secrets::resolve(
                st.link_signing_key.as_ref(),
                &settings.data_dir,
                crate::secrets::LINK_SIGNING_KEY_FILE,
            )
            .map_err(|e| StartupError::Storage(format!("LINK_SIGNING_KEY: {e}")))?;
            let store = LocalAssetStore::new(
                st.files_dir.clone(),
                settings.mail.public_base_url.clone(),
                key.expose().as_bytes().to_vec(),
            )
            .map_err(|e| bad(&e))?;
            Ok((Arc::new(store), None))
        }
    }
}

/// The sign-in providers whose client id and secret are set.
fn oauth_providers(
    settings: &Settings,
) -> Result<Vec<Arc<dyn nexus_identity::OAuthProvider>>, StartupError> {
    use nexus_oauth_providers::{
        ClientRegistration, GitHubConfig, GitHubProvider, GoogleConfig, GoogleProvider,
    };
    let o = &settings.oauth;
    let base = &settings.mail.public_base_url;
    let timeout = std::time::Duration::from_secs(o.timeout_secs);
    let invalid =
        |e: nexus_oauth_providers::InvalidProviderConfig| StartupError::OAuth(e.to_string());
    let mut providers: Vec<Arc<dyn nexus_identity::OAuthProvider>> = Vec::new();
    if let (Some(id), Some(secret)) = (&o.google_client_id, &o.google_client_secret) {
        providers.push(Arc::new(
            GoogleProvider::new(GoogleConfig {
                client: ClientRegistration {
                    client_id: id.clone(),
                    client_secret: secret.expose().to_owned(),
                    redirect_uri: o.redirect_uri("google", base),
                    timeout,
                },
                issuer: o.google_issuer.trim_end_matches('/').to_owned(),
            })
            .map_err(invalid)?,
        ));
    }
    if let (Some(id), Some(secret)) = (&o.github_client_id, &o.github_client_secret) {
        providers.push(Arc::new(
            GitHubProvider::new(GitHubConfig {
                client: ClientRegistration {
                    client_id: id.clone(),
                    client_secret: secret.expose().to_owned(),
                    redirect_uri: o.redirect_uri("github", base),
                    timeout,
                },
                oauth_url: o.github_oauth_url.clone(),
                api_url: o.github_api_url.clone(),
            })
            .map_err(invalid)?,
        ));
    }
    Ok(providers)
}

/// Razorpay when its keys are set; otherwise the development gateway (never in production:
/// the settings refuse that).
fn payment_gateway(settings: &Settings) -> Result<Arc<dyn PaymentGateway>, StartupError> {
    let p = &settings.payments;
    match (&p.key_id, &p.key_secret, &p.webhook_secret) {
        (Some(key_id), Some(secret), Some(webhook)) => {
            let mut config = RazorpayConfig::new(
                key_id.clone(),
                secret.expose().to_owned(),
                webhook.expose().to_owned(),
            );
            config.api_base.clone_from(&p.api_base);
            config.timeout = std::time::Duration::from_secs(p.timeout_secs);
            let gateway =
                RazorpayGateway::new(config).map_err(|e| StartupError::Payments(e.to_string()))?;
            Ok(Arc::new(gateway))
        }
        _ => Ok(Arc::new(DevelopmentGateway::new())),
    }
}

/// Meilisearch when `MEILI_URL` is set, its index configured: the search port and the
/// index the `index_product` subscriber keeps in step (and `nexus reindex` rebuilds).
/// `None` means the database's own full-text search, which keeps itself in step.
///
/// # Errors
/// `Search` when the settings are refused or Meilisearch refuses the index settings.
pub async fn product_index(
    settings: &Settings,
) -> Result<Option<Arc<MeiliProductSearch>>, StartupError> {
    let c = &settings.commerce;
    let Some(url) = &c.meili_url else {
        return Ok(None);
    };
    let config = MeiliConfig {
        api_key: c
            .meili_api_key
            .as_ref()
            .map(|k| MeiliApiKey::new(k.expose())),
        index: c.meili_index.clone(),
        ..MeiliConfig::new(url.clone())
    };
    let meili =
        Arc::new(MeiliProductSearch::new(config).map_err(|e| StartupError::Search(e.to_string()))?);
    meili
        .configure_index()
        .await
        .map_err(|e| StartupError::Search(e.to_string()))?;
    Ok(Some(meili))
}

/// Meilisearch's posts index (`MEILI_POSTS_INDEX`) when `MEILI_URL` is set, configured:
/// the blog's search port and the index the `index_post` subscriber keeps in step (and
/// `nexus reindex` rebuilds). `None` means the database's own full-text search.
///
/// # Errors
/// `Search` when the settings are refused (the posts index must differ from the products
/// index) or Meilisearch refuses the index settings.
pub async fn post_index(settings: &Settings) -> Result<Option<Arc<MeiliPostSearch>>, StartupError> {
    let c = &settings.commerce;
    let Some(url) = &c.meili_url else {
        return Ok(None);
    };
    if c.meili_posts_index == c.meili_index {
        return Err(StartupError::Search(
            "MEILI_POSTS_INDEX must differ from MEILI_INDEX: posts and products need indexes of their own".to_owned(),
        ));
    }
    let config = MeiliConfig {
        api_key: c
            .meili_api_key
            .as_ref()
            .map(|k| MeiliApiKey::new(k.expose())),
        index: c.meili_posts_index.clone(),
        ..MeiliConfig::new(url.clone())
    };
    let meili =
        Arc::new(MeiliPostSearch::new(config).map_err(|e| StartupError::Search(e.to_string()))?);
    meili
        .configure_index()
        .await
        .map_err(|e| StartupError::Search(e.to_string()))?;
    Ok(Some(meili))
}

/// Redis with a time-to-live when `REDIS_URL` is set (and its store again, for the
/// readiness probe); the database otherwise.
async fn cart_store(
    settings: &Settings,
    db: &DatabaseConnection,
) -> Result<Probed<dyn CartStore, RedisCartStore>, StartupError> {
    match &settings.commerce.redis_url {
        Some(url) => {
            let ttl = std::time::Duration::from_secs(settings.commerce.cart_ttl_secs);
            let store = RedisCartStore::connect(url.expose(), ttl)
                .await
                .map_err(|e| StartupError::Redis(e.to_string()))?
                .with_prefix(settings.commerce.redis_key_prefix.clone());
            let store = Arc::new(store);
            Ok((store.clone(), Some(store)))
        }
        None => Ok((Arc::new(SeaCartStore::new(db.clone())), None)),
    }
}

/// Rate limits shared through Redis when `REDIS_URL` is set (counted in process while Redis
/// fails); in process otherwise.
async fn rate_limiter(settings: &Settings) -> Result<Arc<dyn RateLimiter>, StartupError> {
    match &settings.commerce.redis_url {
        Some(url) => {
            let redis = RedisRateLimiter::connect(url.expose())
                .await
                .map_err(|e| StartupError::Redis(e.to_string()))?
                .with_prefix(settings.commerce.redis_key_prefix.clone());
            Ok(Arc::new(FallbackRateLimiter::new(
                Arc::new(redis),
                SHARED_RETRY_EVERY,
            )))
        }
        None => Ok(Arc::new(InProcessRateLimiter::new())),
    }
}

/// The shared half of the public catalog cache and the cache itself: Redis when
/// `REDIS_URL` is set (every instance shares entries and generations); in process otherwise,
/// where only this process's own worker can invalidate it, so the cache is off when this
/// process runs no worker (`WORKER_IN_SERVE=false`) and for `CACHE_TTL_SECS=0`.
async fn catalog_cache(
    settings: &Settings,
) -> Result<(Arc<dyn SharedCache>, Arc<ResponseCache>), StartupError> {
    let c = &settings.commerce;
    let ttl = std::time::Duration::from_secs(c.cache_ttl_secs);
    let (shared, remote, ttl): (Arc<dyn SharedCache>, bool, _) = match &c.redis_url {
        Some(url) => {
            let redis = RedisCache::connect(url.expose())
                .await
                .map_err(|e| StartupError::Redis(e.to_string()))?
                .with_prefix(c.redis_key_prefix.clone());
            (Arc::new(redis), true, Some(ttl))
        }
        None => {
            let ttl = if settings.worker.in_serve {
                Some(ttl)
            } else {
                tracing::info!(
                    "no REDIS_URL and no worker in this process: the catalog cache is off"
                );
                None
            };
            // Only the generations are kept here; the response cache's own tier holds bodies.
            (Arc::new(InMemoryCache::new(1024 * 1024)), false, ttl)
        }
    };
    let cache = ResponseCache::new(
        "products",
        CATALOG_CACHE_NAMESPACE,
        shared.clone(),
        remote,
        ttl,
    );
    Ok((shared, Arc::new(cache)))
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "nexus".to_owned())
}

/// The address used for the first administrator when `NEXUS_ADMIN_EMAIL` is not set.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@nexus.local";

/// On first start (no user at all) creates the administrator from the settings, generating
/// and printing a password once if none was configured.
async fn bootstrap_admin(
    identity: &IdentityService,
    settings: &Settings,
) -> Result<(), StartupError> {
    let email_raw = settings
        .auth
        .admin_email
        .as_deref()
        .unwrap_or(DEFAULT_ADMIN_EMAIL);
    let email = Email::parse(email_raw).map_err(|_| crate::settings::SettingsError {
        key: "NEXUS_ADMIN_EMAIL",
        reason: "not a valid e-mail address".into(),
    })?;
    let (password, generated) = match &settings.auth.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (uuid::Uuid::new_v4().simple().to_string(), true),
    };
    match identity
        .bootstrap_admin(email, &password)
        .await
        .map_err(StartupError::Bootstrap)?
    {
        BootstrapOutcome::UsersExist => {}
        BootstrapOutcome::AdminCreated(email) => {
            tracing::info!(email = %email, "first start: administrator created");
            if generated {
                print_generated_password(email.as_str(), &password);
            }
        }
    }
    Ok(())
}

/// The one deliberate exception to "secrets never reach output": the generated first
/// administrator password goes to the operator's terminal (stderr), once, never to the log.
#[expect(
    clippy::print_stderr,
    reason = "shown once to the operator, deliberately outside the log pipeline"
)]
fn print_generated_password(email: &str, password: &str) {
    eprintln!("\n================ Customer Nexus Hub: first start ================");
    eprintln!("  Administrator created: {email}");
    eprintln!("  Generated password:    {password}");
    eprintln!("  Shown only this once. Sign in and change it (POST /api/v1/users/me/password).");
    eprintln!("==================================================================\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sqlite_directory() {
        assert_eq!(
            sqlite_dir("sqlite://./data/nexus.db?mode=rwc"),
            Some("./data".into())
        );
        assert_eq!(sqlite_dir("sqlite:/tmp/x/y.db"), Some("/tmp/x".into()));
        assert_eq!(sqlite_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_dir("postgres://h/db"), None);
    }
}
