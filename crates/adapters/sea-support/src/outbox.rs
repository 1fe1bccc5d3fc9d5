//! Writing events into the outbox inside a unit of work's transaction, and the request id
//! that travels with them.
//!
//! Here, in the shared support crate, so every context adapter can append the events of
//! its unit of work inside its own transaction. Delivering them is `nexus-sea-outbox`'s job.

use std::future::Future;

use chrono::{DateTime, Utc};
use nexus_kernel::Unexpected;
use nexus_outbox::{
    DEFAULT_MAX_ATTEMPTS, Delivery, DeliveryContext, DeliveryFuture, DeliveryId, DeliveryState,
    EventEnvelope, Routes,
};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, Value};

tokio::task_local! {
    /// The id of the request (or of the event's original request, in a subscriber) the
    /// current task works for.
    pub static REQUEST_ID: Option<String>;
}

/// Runs `fut` with `request_id` as the current request id.
pub async fn scope_request_id<F: Future>(request_id: Option<String>, fut: F) -> F::Output {
    REQUEST_ID.scope(request_id, fut).await
}

/// The current request id, when the task runs within [`scope_request_id`].
#[must_use]
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok().flatten()
}

/// Runs each delivery with its event's request id as the current one, so events a
/// subscriber writes carry the original request id on.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskLocalRequestId;

impl DeliveryContext for TaskLocalRequestId {
    fn scope<'a>(&self, delivery: &Delivery, work: DeliveryFuture<'a>) -> DeliveryFuture<'a> {
        Box::pin(REQUEST_ID.scope(delivery.event.request_id.clone(), work))
    }
}

/// Writes `events` to `outbox_events` and one PENDING delivery per route of each to
/// `event_deliveries` (due `delay` after the event), through `conn`: call it inside the
/// unit of work's transaction so the events exist exactly when the change does.
///
/// Each event's request id is the first of `request_id`, the envelope's own, and
/// [`current_request_id`]. An event nobody subscribes to is still stored (for the record).
///
/// # Errors
/// `Unexpected` when the database refuses the rows.
pub async fn append_events<C>(
    conn: &C,
    events: &[EventEnvelope],
    routes: &Routes,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Unexpected>
where
    C: ConnectionTrait,
{
    if events.is_empty() {
        return Ok(());
    }
    let ambient = current_request_id();
    let mut event_rows = Query::insert();
    event_rows.into_table(Alias::new("outbox_events")).columns(
        [
            "id",
            "name",
            "version",
            "payload",
            "sensitive",
            "request_id",
            "occurred_at",
            "created_at",
        ]
        .map(Alias::new),
    );
    let mut delivery_rows = Query::insert();
    delivery_rows
        .into_table(Alias::new("event_deliveries"))
        .columns(
            [
                "id",
                "event_id",
                "subscriber",
                "state",
                "attempts",
                "max_attempts",
                "run_at",
                "created_at",
                "updated_at",
            ]
            .map(Alias::new),
        );
    let mut any_delivery = false;
    let max_attempts = i32::try_from(DEFAULT_MAX_ATTEMPTS).unwrap_or(i32::MAX);
    for event in events {
        let stamped = request_id
            .map(str::to_owned)
            .or_else(|| event.request_id.clone())
            .or_else(|| ambient.clone());
        let version = i32::try_from(event.version).map_err(|e| {
            Unexpected::new(format!("event version {} is too large", event.version), e)
        })?;
        event_rows
            .values([
                event.id.as_uuid().into(),
                event.name.clone().into(),
                version.into(),
                Value::Json(Some(Box::new(event.payload.clone()))).into(),
                event.sensitive.into(),
                stamped.into(),
                event.occurred_at.into(),
                now.into(),
            ])
            .map_err(Unexpected::with("building an outbox row"))?;
        for route in routes.routes(&event.name) {
            any_delivery = true;
            let run_at = event
                .occurred_at
                .checked_add_signed(route.delay)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            delivery_rows
                .values([
                    DeliveryId::new().as_uuid().into(),
                    event.id.as_uuid().into(),
                    route.subscriber.into(),
                    DeliveryState::Pending.as_str().into(),
                    0_i32.into(),
                    max_attempts.into(),
                    run_at.into(),
                    now.into(),
                    now.into(),
                ])
                .map_err(Unexpected::with("building a delivery row"))?;
        }
    }
    conn.execute(&event_rows)
        .await
        .map_err(Unexpected::with("writing events to the outbox"))?;
    if any_delivery {
        conn.execute(&delivery_rows)
            .await
            .map_err(Unexpected::with("writing event deliveries"))?;
    }
    Ok(())
}
