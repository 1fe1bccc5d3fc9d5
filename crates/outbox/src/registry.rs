//! Which subscriber wants which event: built once in the composition root.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::Duration;

use crate::Subscriber;

/// One subscriber an event is delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// [`Subscriber::name`].
    pub subscriber: &'static str,
    /// Delay between the event and its delivery.
    pub delay: Duration,
}

/// Event name → routes; read-only, cheap to share (`Arc<Routes>`): what a writer needs at
/// commit time to create one delivery per route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    by_event: HashMap<&'static str, Vec<Route>>,
}

impl Routes {
    /// The routes of `event`, in registration order; empty when nobody subscribes.
    #[must_use]
    pub fn routes(&self, event: &str) -> &[Route] {
        self.by_event.get(event).map_or(&[], Vec::as_slice)
    }
}

/// The routes, installed once the registry is complete.
///
/// Adapters that append events are built before the subscribers (a subscriber often needs
/// a service, and the service needs the adapter), so they take this handle and the
/// composition root [`install`](Self::install)s the registry's routes once every
/// subscriber is registered, before the first request or delivery.
#[derive(Debug, Clone, Default)]
pub struct RoutesHandle(Arc<OnceLock<Arc<Routes>>>);

impl RoutesHandle {
    /// An empty handle.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle already holding `routes` (tests, and compositions without a cycle).
    #[must_use]
    pub fn installed(routes: Arc<Routes>) -> Self {
        let handle = Self::default();
        handle.install(routes);
        handle
    }

    /// Installs `routes`; a second call keeps the first routes and returns `false`.
    pub fn install(&self, routes: Arc<Routes>) -> bool {
        self.0.set(routes).is_ok()
    }

    /// The installed routes, or `None` before [`install`](Self::install).
    #[must_use]
    pub fn get(&self) -> Option<Arc<Routes>> {
        self.0.get().cloned()
    }
}

/// A second subscriber with a name already registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a subscriber named {0} is already registered")]
pub struct DuplicateSubscriber(pub &'static str);

/// The subscribers of this process and their routes.
#[derive(Default)]
pub struct SubscriberRegistry {
    subscribers: BTreeMap<&'static str, Arc<dyn Subscriber>>,
    routes: Arc<Routes>,
}

impl fmt::Debug for SubscriberRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriberRegistry")
            .field("subscribers", &self.names())
            .finish_non_exhaustive()
    }
}

impl SubscriberRegistry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `subscriber` and routes its subscriptions to it. A subscription listed twice
    /// counts once (the first delay wins).
    ///
    /// # Errors
    /// `DuplicateSubscriber` when its name is taken; the registry is unchanged.
    pub fn register(&mut self, subscriber: Arc<dyn Subscriber>) -> Result<(), DuplicateSubscriber> {
        let name = subscriber.name();
        if self.subscribers.contains_key(name) {
            return Err(DuplicateSubscriber(name));
        }
        let routes = Arc::make_mut(&mut self.routes);
        for subscription in subscriber.subscriptions() {
            let event_routes = routes.by_event.entry(subscription.event).or_default();
            if !event_routes.iter().any(|r| r.subscriber == name) {
                event_routes.push(Route {
                    subscriber: name,
                    delay: subscription.delay,
                });
            }
        }
        self.subscribers.insert(name, subscriber);
        Ok(())
    }

    /// The routes of `event`.
    #[must_use]
    pub fn routes(&self, event: &str) -> &[Route] {
        self.routes.routes(event)
    }

    /// Every route, shareable with writers.
    #[must_use]
    pub fn shared_routes(&self) -> Arc<Routes> {
        Arc::clone(&self.routes)
    }

    /// The subscriber named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Subscriber>> {
        self.subscribers.get(name)
    }

    /// Every subscriber's name, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        self.subscribers.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MockSubscriber, Subscription};

    fn subscriber(name: &'static str, events: &[&'static str]) -> Arc<dyn Subscriber> {
        let events = events.to_vec();
        let mut s = MockSubscriber::new();
        s.expect_name().return_const(name);
        s.expect_subscriptions().returning(move || {
            events
                .iter()
                .map(|e| Subscription {
                    event: e,
                    delay: Duration::minutes(i64::try_from(e.len()).unwrap_or(0)),
                })
                .collect()
        });
        Arc::new(s)
    }

    #[test]
    fn events_route_to_every_subscriber_that_wants_them() {
        let mut registry = SubscriberRegistry::new();
        registry
            .register(subscriber("mail", &["a.x", "a.y"]))
            .expect("register mail");
        registry
            .register(subscriber("search", &["a.x"]))
            .expect("register search");

        let routes = registry.shared_routes();

        let to_x: Vec<_> = routes.routes("a.x").iter().map(|r| r.subscriber).collect();
        assert_eq!(to_x, ["mail", "search"]);
        assert_eq!(routes.routes("a.y")[0].delay, Duration::minutes(3));
        assert!(routes.routes("a.z").is_empty());
        assert_eq!(registry.names(), ["mail", "search"]);
        assert!(registry.get("search").is_some());
        assert!(registry.get("nobody").is_none());
    }

    #[test]
    fn a_second_subscriber_with_a_taken_name_is_refused() {
        let mut registry = SubscriberRegistry::new();
        registry
            .register(subscriber("mail", &["a.x"]))
            .expect("register");

        let second = registry.register(subscriber("mail", &["a.y"]));

        assert_eq!(second, Err(DuplicateSubscriber("mail")));
        assert!(registry.routes("a.y").is_empty());
    }

    #[test]
    fn a_routes_handle_is_installed_once_and_shared_by_its_clones() {
        let mut registry = SubscriberRegistry::new();
        registry
            .register(subscriber("mail", &["a.x"]))
            .expect("register");
        let handle = RoutesHandle::new();
        let clone = handle.clone();
        assert!(clone.get().is_none());

        assert!(handle.install(registry.shared_routes()));
        assert!(!handle.install(Arc::new(Routes::default())));

        let routes = clone.get().expect("installed through the other clone");
        assert_eq!(routes.routes("a.x")[0].subscriber, "mail");
    }
}
