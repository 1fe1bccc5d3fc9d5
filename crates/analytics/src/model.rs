//! Events as clients send them, their validated form, what is stored and what reports show.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

/// Why a value was refused; the message is safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    /// A stable machine code (`invalid`, `too_long`, `required`).
    pub code: &'static str,
    /// Human-readable text.
    pub message: &'static str,
}

const fn invalid(code: &'static str, message: &'static str) -> InvalidValue {
    InvalidValue { code, message }
}

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A page was viewed.
    Pageview,
    /// A named action happened on a page (`add_to_cart`, `purchase`, `signup`...).
    Event,
}

impl EventKind {
    /// `pageview` or `event`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pageview => "pageview",
            Self::Event => "event",
        }
    }

    /// Parses `pageview` or `event`.
    ///
    /// # Errors
    /// [`InvalidValue`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw {
            "pageview" => Ok(Self::Pageview),
            "event" => Ok(Self::Event),
            _ => Err(invalid("invalid", "must be pageview or event")),
        }
    }
}

/// The name of an event: `[a-z0-9_]{1,40}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventName(String);

impl EventName {
    /// The name of the funnel's cart step.
    pub const ADD_TO_CART: &'static str = "add_to_cart";
    /// The name of the funnel's purchase step.
    pub const PURCHASE: &'static str = "purchase";

    /// Checks the name.
    ///
    /// # Errors
    /// [`InvalidValue`] unless it is 1 to 40 of `a-z`, `0-9` and `_`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let ok = (1..=40).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid("invalid", "must be 1 to 40 of a-z, 0-9 and _"))
        }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A page's path: relative (starts with one `/`), no query string or fragment, at most 500
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PagePath(String);

/// The longest path stored.
const MAX_PATH: usize = 500;
/// The longest path accepted before its query string is stripped.
const MAX_RAW_PATH: usize = 2000;

impl PagePath {
    /// Normalises `raw`: drops the fragment and the query string, whose `utm_*` parameters
    /// are returned (decoded) for the event's campaign fields.
    ///
    /// # Errors
    /// [`InvalidValue`] when it is not a relative path (`/...`, not `//host`), holds white
    /// space or control characters, or is longer than 500 characters without its query.
    pub fn parse(raw: &str) -> Result<(Self, Utm), InvalidValue> {
        if raw.chars().count() > MAX_RAW_PATH {
            return Err(invalid("too_long", "must be at most 500 characters"));
        }
        if !raw.starts_with('/') || raw.starts_with("//") || raw.starts_with("/\\") {
            return Err(invalid(
                "invalid",
                "must be a relative path starting with /",
            ));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(
                "invalid",
                "must not contain white space or control characters",
            ));
        }
        let without_fragment = raw.split('#').next().unwrap_or_default();
        let (path, query) = match without_fragment.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (without_fragment, None),
        };
        if path.chars().count() > MAX_PATH {
            return Err(invalid("too_long", "must be at most 500 characters"));
        }
        let mut utm = Utm::default();
        for pair in query.unwrap_or_default().split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "utm_source" => &mut utm.source,
                "utm_medium" => &mut utm.medium,
                "utm_campaign" => &mut utm.campaign,
                "utm_term" => &mut utm.term,
                "utm_content" => &mut utm.content,
                _ => continue,
            };
            // A campaign tag of a link is kept only when it is valid: a broken tag in a
            // shared link must not make every page view of it refused.
            if slot.is_none() {
                *slot = UtmValue::parse(&percent_decode(value)).ok().flatten();
            }
        }
        Ok((Self(path.to_owned()), utm))
    }

    /// The path.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `%XX` and `+` decoded; invalid sequences are kept as they are.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The host a visitor came from, lower-cased, without port or a leading `www.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferrerHost(String);

impl ReferrerHost {
    /// The host of `url`, an absolute http(s) URL of at most 1000 characters.
    ///
    /// # Errors
    /// [`InvalidValue`] for anything else.
    pub fn from_url(url: &str) -> Result<Self, InvalidValue> {
        if url.chars().count() > 1000 {
            return Err(invalid("too_long", "must be at most 1000 characters"));
        }
        let lower = url.trim().to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or(invalid("invalid", "must be an absolute http(s) URL"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        Self::host(host_port).ok_or(invalid("invalid", "must be an absolute http(s) URL"))
    }

    /// The host of a `Host` header value (`shop.example.com:8080`), if it is one.
    #[must_use]
    pub fn from_host_header(raw: &str) -> Option<Self> {
        Self::host(&raw.trim().to_ascii_lowercase())
    }

    fn host(host_port: &str) -> Option<Self> {
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            v6.split(']').next().unwrap_or_default()
        } else {
            host_port.split(':').next().unwrap_or_default()
        };
        let host = host.strip_prefix("www.").unwrap_or(host);
        let ok = !host.is_empty()
            && host.len() <= 255
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'));
        ok.then(|| Self(host.to_owned()))
    }

    /// The host.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One campaign value (`utm_source`...): trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UtmValue(String);

impl UtmValue {
    /// Checks `raw`; a blank value is no value (`Ok(None)`).
    ///
    /// # Errors
    /// [`InvalidValue`] when longer than 100 characters as sent, or holding control
    /// characters inside the white space around it.
    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidValue> {
        // As sent, white space included: the schema's limit.
        if raw.chars().count() > 100 {
            return Err(invalid("too_long", "must be at most 100 characters"));
        }
        let value = raw.trim();
        if value.is_empty() {
            return Ok(None);
        }
        if value.chars().any(char::is_control) {
            return Err(invalid("invalid", "must not contain control characters"));
        }
        Ok(Some(Self(value.to_owned())))
    }

    /// The value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The campaign fields of an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Utm {
    /// `utm_source`.
    pub source: Option<UtmValue>,
    /// `utm_medium`.
    pub medium: Option<UtmValue>,
    /// `utm_campaign`.
    pub campaign: Option<UtmValue>,
    /// `utm_term`.
    pub term: Option<UtmValue>,
    /// `utm_content`.
    pub content: Option<UtmValue>,
}

impl Utm {
    /// Whether any field is set.
    #[must_use]
    pub fn is_tagged(&self) -> bool {
        self.source.is_some()
            || self.medium.is_some()
            || self.campaign.is_some()
            || self.term.is_some()
            || self.content.is_some()
    }
}

/// One event as the client sent it (every field still text, checked by [`NewEvent::parse`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEvent {
    /// `pageview` or `event`.
    pub kind: String,
    /// The event's name (events only).
    pub name: Option<String>,
    /// The page's path.
    pub path: String,
    /// The page's referrer URL.
    pub referrer: Option<String>,
    /// `utmSource`.
    pub utm_source: Option<String>,
    /// `utmMedium`.
    pub utm_medium: Option<String>,
    /// `utmCampaign`.
    pub utm_campaign: Option<String>,
    /// `utmTerm`.
    pub utm_term: Option<String>,
    /// `utmContent`.
    pub utm_content: Option<String>,
    /// When it happened, RFC 3339.
    pub occurred_at: Option<String>,
}

/// A validated event, not yet attributed to a visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// What it records.
    pub kind: EventKind,
    /// Its name (events only).
    pub name: Option<EventName>,
    /// The page.
    pub path: PagePath,
    /// Where the visitor came from (never this site itself).
    pub referrer: Option<ReferrerHost>,
    /// The campaign: the explicit fields, else the `utm_*` parameters of the path.
    pub utm: Utm,
    /// When it happened: the client's time when within a day before `now`, else `now`.
    pub occurred_at: DateTime<Utc>,
}

impl NewEvent {
    /// Checks `raw` as received at `now` on the site `site` (its own host, whose referrals
    /// are dropped). A `name` on a page view is checked, then not kept.
    ///
    /// # Errors
    /// Every refused field, named as the client spells it (`path`, `utmSource`...).
    pub fn parse(
        raw: &RawEvent,
        now: DateTime<Utc>,
        site: Option<&ReferrerHost>,
    ) -> Result<Self, Vec<(&'static str, InvalidValue)>> {
        let mut problems = Vec::new();
        let p = &mut problems;
        let kind = keep(p, "type", EventKind::parse(&raw.kind));
        let name = match (kind, raw.name.as_deref()) {
            (Some(EventKind::Event), Some(name)) => {
                keep(p, "name", EventName::parse(name).map(Some))
            }
            (Some(EventKind::Event), None) => {
                keep(p, "name", Err(invalid("required", "an event needs a name")))
            }
            // A page view's name is not kept, but one that is sent must still be a name,
            // as the schema says.
            (_, Some(name)) => keep(p, "name", EventName::parse(name).map(|_| None)),
            _ => Some(None),
        };
        let path = keep(p, "path", PagePath::parse(&raw.path));
        // A referrer is what the browser reports (`android-app://...`, `http://` with no
        // host...): one with no http(s) host to keep counts as none rather than costing the
        // batch its page views. Only an over-long one is refused, as the schema says.
        let referrer = match raw.referrer.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(url) if url.chars().count() > 1000 => keep(
                p,
                "referrer",
                Err::<Option<ReferrerHost>, _>(invalid(
                    "too_long",
                    "must be at most 1000 characters",
                )),
            ),
            Some(url) => Some(ReferrerHost::from_url(url).ok()),
        };
        let utm_field = |p: &mut Vec<_>, field: &'static str, value: &Option<String>| match value {
            None => Some(None),
            Some(v) => keep(p, field, UtmValue::parse(v)),
        };
        let source = utm_field(p, "utmSource", &raw.utm_source);
        let medium = utm_field(p, "utmMedium", &raw.utm_medium);
        let campaign = utm_field(p, "utmCampaign", &raw.utm_campaign);
        let term = utm_field(p, "utmTerm", &raw.utm_term);
        let content = utm_field(p, "utmContent", &raw.utm_content);
        // A blank time is no time, as a blank referrer is no referrer: server time.
        let occurred_at = match raw.occurred_at.as_deref().map(str::trim) {
            None | Some("") => Some(now),
            Some(text) => keep(
                p,
                "occurredAt",
                DateTime::parse_from_rfc3339(text)
                    .map(|t| resolve_time(t.with_timezone(&Utc), now))
                    .map_err(|_| invalid("invalid", "must be an RFC 3339 date-time")),
            ),
        };
        let (
            Some(kind),
            Some(name),
            Some((path, from_path)),
            Some(referrer),
            Some(source),
            Some(medium),
            Some(campaign),
            Some(term),
            Some(content),
            Some(occurred_at),
        ) = (
            kind,
            name,
            path,
            referrer,
            source,
            medium,
            campaign,
            term,
            content,
            occurred_at,
        )
        else {
            return Err(problems);
        };
        let referrer = referrer.filter(|host| Some(host) != site);
        let utm = Utm {
            source: source.or(from_path.source),
            medium: medium.or(from_path.medium),
            campaign: campaign.or(from_path.campaign),
            term: term.or(from_path.term),
            content: content.or(from_path.content),
        };
        Ok(Self {
            kind,
            name,
            path,
            referrer,
            utm,
            occurred_at,
        })
    }

    /// The UTC day the event counts for.
    #[must_use]
    pub fn day(&self) -> NaiveDate {
        self.occurred_at.date_naive()
    }
}

/// `Some(value)`, or `None` with the problem recorded under `field`.
fn keep<T>(
    problems: &mut Vec<(&'static str, InvalidValue)>,
    field: &'static str,
    result: Result<T, InvalidValue>,
) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push((field, e));
            None
        }
    }
}

/// The client's time if it is at most a day before `now` and not after it; else `now`
/// (a client clock cannot move an event to another day than the server would by more than
/// one, nor into the future).
fn resolve_time(claimed: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    if claimed <= now && now - claimed <= Duration::days(1) {
        claimed
    } else {
        now
    }
}

/// A salted, one-way hash of a visitor (client address and user agent) for one UTC day:
/// 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VisitorHash(String);

impl VisitorHash {
    /// Checks a hex SHA-256 digest.
    ///
    /// # Errors
    /// [`InvalidValue`] unless it is 64 lower-case hex characters.
    pub fn from_hex(hex: &str) -> Result<Self, InvalidValue> {
        let ok = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(hex.to_owned()))
        } else {
            Err(invalid("invalid", "must be 64 lower-case hex characters"))
        }
    }

    /// The hex digest.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The random salt of one UTC day. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DailySalt(Vec<u8>);

impl DailySalt {
    /// Wraps random bytes.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for DailySalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DailySalt([redacted])")
    }
}

/// An event as stored in the raw table: attributed to a day and a visitor hash, with no
/// address or user agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricEvent {
    /// Id (UUID v7: rolled up in arrival order).
    pub id: Uuid,
    /// The visitor, for that day only.
    pub visitor: VisitorHash,
    /// The UTC day it counts for.
    pub day: NaiveDate,
    /// The validated event.
    pub event: NewEvent,
    /// When the server received it.
    pub created_at: DateTime<Utc>,
}

/// A page's numbers over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStats {
    /// The page.
    pub path: String,
    /// Page views.
    pub views: u64,
    /// Unique visitors of each day, summed over the days.
    pub visitors: u64,
}

/// A referrer's page views over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerStats {
    /// The referring host.
    pub host: String,
    /// Page views it sent.
    pub views: u64,
}

/// Page views of one campaign (source, medium, campaign; blank when untagged) over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignStats {
    /// `utm_source`, or empty.
    pub source: String,
    /// `utm_medium`, or empty.
    pub medium: String,
    /// `utm_campaign`, or empty.
    pub campaign: String,
    /// Page views.
    pub views: u64,
}

/// One day's page views and unique visitors (site-wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayStats {
    /// The UTC day.
    pub day: NaiveDate,
    /// Page views.
    pub views: u64,
    /// Unique visitors with a page view that day.
    pub visitors: u64,
}

/// The funnel's counts over a range, each a sum of daily unique visitors (visitor-days).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FunnelCounts {
    /// Visitor-days with a page view.
    pub viewers: u64,
    /// Visitor-days with an `add_to_cart` event.
    pub carts: u64,
    /// Visitor-days with a `purchase` event.
    pub purchases: u64,
}

/// The funnel view → cart → purchase with its rates (0 when a step has no visitors).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Funnel {
    /// The counts.
    pub counts: FunnelCounts,
    /// `carts / viewers`.
    pub cart_rate: f64,
    /// `purchases / carts`.
    pub purchase_rate: f64,
    /// `purchases / viewers`.
    pub conversion_rate: f64,
}

impl Funnel {
    /// The rates of `counts`, rounded to four decimals.
    #[must_use]
    pub fn from_counts(counts: FunnelCounts) -> Self {
        Self {
            counts,
            cart_rate: rate(counts.carts, counts.viewers),
            purchase_rate: rate(counts.purchases, counts.carts),
            conversion_rate: rate(counts.purchases, counts.viewers),
        }
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "visitor counts stay far below 2^52"
)]
fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
