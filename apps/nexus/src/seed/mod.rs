//! `nexus seed`: fills a realistic demo store, one kind of data per module.
//!
//! Everything goes through the domain services (so audit entries, events, invariants,
//! invoices and credit notes happen as in real use); only the month of page metrics is
//! written through the metrics store, since the public ingestion accepts only today and
//! yesterday. Names, amounts and choices come from a fixed-seed generator per kind, so every
//! run makes the same store. Each kind first looks for what it makes (the demo accounts, a
//! customer's address, a product's slug, a page's key...) and skips what is already there,
//! so running it again adds nothing. It is refused when `APP_ENV=production`.
//!
//! Adding a kind is one more module with one `pub(super) async fn seed(&mut Seeder)` and
//! one line in [`run`].

mod customers;
mod enquiries;
mod feedback;
mod images;
mod metrics;
mod names;
mod orders;
mod pages;
mod posts;
mod products;
mod staff;
mod team;

use std::collections::HashMap;
use std::io::Write as _;

use nexus_identity::{User, UserFilter};
use nexus_kernel::{Actor, PageRequest, Role, UserId};

use crate::cli::CliError;
use crate::settings::{AppEnv, Settings};
use crate::state::AppState;

/// The seed of every kind's generator; each kind mixes in its own name.
const SEED: u64 = 0x6e65_7875_735f_6869;

/// What one kind did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records made.
    pub created: usize,
    /// Records found already there.
    pub skipped: usize,
}

/// The demo staff, by role, once they exist.
#[derive(Debug, Clone)]
pub(crate) struct Staff {
    pub admin: UserId,
    pub manager: UserId,
    pub officers: Vec<UserId>,
    pub editor: UserId,
}

impl Staff {
    pub(crate) fn admin(&self) -> Actor {
        crate::access::actor(self.admin, Role::Admin)
    }

    pub(crate) fn manager(&self) -> Actor {
        crate::access::actor(self.manager, Role::Manager)
    }

    pub(crate) fn editor(&self) -> Actor {
        crate::access::actor(self.editor, Role::Editor)
    }
}

/// What every kind shares: the services, the settings and what earlier kinds made.
pub(crate) struct Seeder<'a> {
    pub state: &'a AppState,
    pub settings: &'a Settings,
    pub staff: Option<Staff>,
    pub products: Vec<nexus_catalog::Product>,
    /// The visible team members, in order, once they exist.
    pub team: Vec<nexus_content::TeamMemberId>,
}

impl Seeder<'_> {
    /// The demo staff; set by the first kind.
    pub(crate) fn staff(&self) -> Result<&Staff, CliError> {
        self.staff
            .as_ref()
            .ok_or_else(|| CliError::Refused("seed: the demo staff are missing".into()))
    }

    /// Every account, by e-mail (the demo store has few).
    pub(crate) async fn accounts(&self, role: Role) -> Result<HashMap<String, User>, CliError> {
        // An administrator that exists only for this run reads the accounts.
        let system = crate::access::actor(UserId::new(), Role::Admin);
        let filter = UserFilter {
            role: Some(role),
            is_active: None,
        };
        let mut found = HashMap::new();
        for page in 1.. {
            let batch = self
                .state
                .identity
                .list_users(&system, &filter, PageRequest::new(Some(page), Some(100)))
                .await
                .ctx("reading the accounts")?;
            let last = batch.items.len() < 100;
            for user in batch.items {
                found.insert(user.email.as_str().to_owned(), user);
            }
            if last {
                break;
            }
        }
        Ok(found)
    }
}

/// A fixed-seed generator for `kind`: the same numbers on every run.
pub(crate) fn rng(kind: &str) -> fastrand::Rng {
    let mixed = kind
        .bytes()
        .fold(SEED, |acc, b| acc.rotate_left(5) ^ u64::from(b));
    fastrand::Rng::with_seed(mixed)
}

/// Turns any failure into the command's refusal, naming what was being done.
pub(crate) trait Context<T> {
    fn ctx(self, what: &str) -> Result<T, CliError>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, CliError> {
        self.map_err(|e| CliError::Refused(format!("seed: {what}: {e}")))
    }
}

/// Fills the demo store, printing what each kind created and skipped.
///
/// # Errors
/// `Refused` in production or when a service refuses; start-up errors.
pub async fn run(settings: &Settings) -> Result<(), CliError> {
    if settings.env == AppEnv::Production {
        return Err(CliError::Refused(
            "seed is refused when APP_ENV=production".into(),
        ));
    }
    let db = crate::startup::connect(settings, true).await?;
    let state = crate::startup::compose(settings, db.clone()).await?;
    let mut seeder = Seeder {
        state: &state,
        settings,
        staff: None,
        products: Vec::new(),
        team: Vec::new(),
    };
    let started = std::time::Instant::now();
    let mut out = std::io::stdout();
    // The report is the command's output, not a log line.
    let mut report = |kind: &str, tally: Tally| {
        writeln!(
            out,
            "seed {kind}: {} created, {} already there",
            tally.created, tally.skipped
        )
    };
    report("staff", staff::seed(&mut seeder).await?)?;
    report("customers", customers::seed(&mut seeder).await?)?;
    report("products", products::seed(&mut seeder).await?)?;
    report("enquiries", enquiries::seed(&mut seeder).await?)?;
    report("orders", orders::seed(&mut seeder).await?)?;
    report("pages", pages::seed(&mut seeder).await?)?;
    report("team", team::seed(&mut seeder).await?)?;
    report("posts", posts::seed(&mut seeder).await?)?;
    report("reviews", feedback::reviews(&mut seeder).await?)?;
    report("feedback", feedback::site(&mut seeder).await?)?;
    report("metrics", metrics::seed(&mut seeder, &db).await?)?;
    writeln!(
        std::io::stdout(),
        "seed done in {:.1} s; demo accounts use the demo password (see README)",
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}
