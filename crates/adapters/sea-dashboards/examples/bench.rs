//! Times each dashboard's reader on a database: `bench migrate URL` migrates it, `bench run
//! URL [rounds]` reads each dashboard `rounds` times (default 200, after 10 warm-up reads)
//! for users picked from the data and prints p50 / p99 / max per role. Driven by
//! `scripts/bench-dashboards.sh`, which fills the database in between.

use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use nexus_dashboards::{CsoQuery, DashboardReader};
use nexus_kernel::UserId;
use nexus_sea_dashboards::SeaDashboardReader;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

type Failure = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(url)) = (args.get(1), args.get(2)) else {
        return Err("usage: bench migrate|run DATABASE_URL [rounds]".into());
    };
    let db = Database::connect(url.as_str()).await?;
    match mode.as_str() {
        "migrate" => {
            nexus_migration::Migrator::up(&db, None).await?;
            Ok(())
        }
        "run" => {
            let rounds = args.get(3).map_or(Ok(200), |r| r.parse::<usize>())?;
            run(db, rounds).await
        }
        other => Err(format!("unknown mode {other}").into()),
    }
}

/// Ids of up to `limit` users picked by `sql` (one uuid column).
async fn users(db: &DatabaseConnection, sql: &str) -> Result<Vec<UserId>, Failure> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|row| Ok(UserId::from_uuid(row.try_get::<Uuid>("", "id")?)))
        .collect()
}

#[expect(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]
fn report(role: &str, mut times: Vec<StdDuration>) {
    times.sort_unstable();
    // The nearest-rank percentile of a short list.
    let at = |percent: usize| {
        let i = (times.len() - 1) * percent / 100;
        times[i].as_secs_f64() * 1000.0
    };
    println!(
        "{role:<9} reads {:>4}  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        times.len(),
        at(50),
        at(99),
        at(100)
    );
}

async fn run(db: DatabaseConnection, rounds: usize) -> Result<(), Failure> {
    let reader = SeaDashboardReader::new(db.clone());
    let buyers = users(
        &db,
        "SELECT user_id AS id FROM orders GROUP BY user_id ORDER BY COUNT(*) DESC LIMIT 20",
    )
    .await?;
    let officers = users(
        &db,
        "SELECT id FROM users WHERE role = 'CSO' ORDER BY id LIMIT 20",
    )
    .await?;
    if buyers.is_empty() || officers.is_empty() {
        return Err("the database holds no buyers or officers: fill it first".into());
    }
    let warm_up = 10;
    let mut timings: [Vec<StdDuration>; 4] = Default::default();
    for i in 0..rounds + warm_up {
        let now = Utc::now();
        let since = now - Duration::days(30);
        let started = Instant::now();
        reader.customer(buyers[i % buyers.len()], 5).await?;
        let customer = started.elapsed();
        let started = Instant::now();
        reader
            .cso(&CsoQuery {
                officer: officers[i % officers.len()],
                now,
            })
            .await?;
        let cso = started.elapsed();
        let started = Instant::now();
        reader.manager(now, since, 10).await?;
        let manager = started.elapsed();
        let started = Instant::now();
        reader.admin(since, 5).await?;
        let admin = started.elapsed();
        if i >= warm_up {
            for (list, time) in timings.iter_mut().zip([customer, cso, manager, admin]) {
                list.push(time);
            }
        }
    }
    let [customer, cso, manager, admin] = timings;
    report("CUSTOMER", customer);
    report("CSO", cso);
    report("MANAGER", manager);
    report("ADMIN", admin);
    Ok(())
}
