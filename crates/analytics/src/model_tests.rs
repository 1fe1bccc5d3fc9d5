use chrono::TimeZone;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0)
        .single()
        .expect("instant")
}

fn pageview(path: &str) -> RawEvent {
    RawEvent {
        kind: "pageview".to_owned(),
        path: path.to_owned(),
        ..RawEvent::default()
    }
}

#[test]
fn paths_lose_their_fragment_and_query_but_keep_utm_tags() {
    let (path, utm) =
        PagePath::parse("/blog/post?utm_source=news%20letter&x=1&utm_medium=email+weekly#top")
            .expect("valid path");
    assert_eq!(path.as_str(), "/blog/post");
    assert_eq!(
        utm.source.as_ref().map(UtmValue::as_str),
        Some("news letter")
    );
    assert_eq!(
        utm.medium.as_ref().map(UtmValue::as_str),
        Some("email weekly")
    );
    assert!(utm.campaign.is_none());

    let (root, none) = PagePath::parse("/").expect("root");
    assert_eq!(root.as_str(), "/");
    assert!(!none.is_tagged());
}

#[test]
fn paths_that_are_not_relative_or_too_long_are_refused() {
    for bad in [
        "",
        "blog",
        "https://evil.example/x",
        "//evil.example/x",
        "/a b",
        "/tab\there",
    ] {
        assert!(PagePath::parse(bad).is_err(), "{bad:?} should be refused");
    }
    let long = format!("/{}", "a".repeat(500));
    assert_eq!(
        PagePath::parse(&long).map(|_| ()),
        Err(invalid("too_long", "must be at most 500 characters"))
    );
    let at_limit = format!("/{}", "a".repeat(499));
    assert!(PagePath::parse(&at_limit).is_ok());
    let long_query = format!("/ok?x={}", "q".repeat(900));
    assert!(PagePath::parse(&long_query).is_ok(), "only the path counts");
}

#[test]
fn a_referrer_is_kept_as_its_host_only() {
    let cases = [
        ("https://www.Google.com/search?q=secret", "google.com"),
        ("http://news.example.org:8080/a/b", "news.example.org"),
        ("https://user:pw@blog.example.net", "blog.example.net"),
    ];
    for (url, host) in cases {
        assert_eq!(
            ReferrerHost::from_url(url)
                .expect("valid referrer")
                .as_str(),
            host
        );
    }
    for bad in ["android-app://x", "ftp://x.org", "not a url", "https://"] {
        assert!(ReferrerHost::from_url(bad).is_err(), "{bad:?}");
    }
    let long = format!("https://x.org/{}", "a".repeat(1000));
    assert!(ReferrerHost::from_url(&long).is_err());
}

#[test]
fn a_referrer_without_an_http_host_counts_as_none_and_an_over_long_one_is_refused() {
    let mut raw = pageview("/cart");
    for odd in ["android-app://com.example", "http://", "not a url"] {
        raw.referrer = Some(odd.to_owned());
        let event = NewEvent::parse(&raw, now(), None).expect("kept");
        assert!(event.referrer.is_none(), "{odd:?}");
    }
    raw.referrer = Some(format!("https://x.org/{}", "a".repeat(1000)));
    assert!(NewEvent::parse(&raw, now(), None).is_err());
}

#[test]
fn a_blank_occurred_at_is_server_time_and_a_malformed_one_is_refused() {
    let mut raw = pageview("/cart");
    raw.occurred_at = Some("  ".to_owned());
    let event = NewEvent::parse(&raw, now(), None).expect("kept");
    assert_eq!(event.occurred_at, now());
    raw.occurred_at = Some("yesterday".to_owned());
    assert!(NewEvent::parse(&raw, now(), None).is_err());
}

#[test]
fn a_page_view_keeps_no_name_but_a_malformed_one_is_refused() {
    let mut raw = pageview("/cart");
    raw.name = Some("signup".to_owned());
    assert_eq!(NewEvent::parse(&raw, now(), None).expect("kept").name, None);
    raw.name = Some(String::new());
    assert!(NewEvent::parse(&raw, now(), None).is_err());
}

#[test]
fn a_referral_from_the_site_itself_is_dropped() {
    let site = ReferrerHost::from_host_header("shop.example.com:8080");
    let mut raw = pageview("/cart");
    raw.referrer = Some("https://shop.example.com/products".to_owned());
    let event = NewEvent::parse(&raw, now(), site.as_ref()).expect("valid");
    assert!(event.referrer.is_none());

    raw.referrer = Some("https://other.example.com/".to_owned());
    let event = NewEvent::parse(&raw, now(), site.as_ref()).expect("valid");
    assert_eq!(
        event.referrer.as_ref().map(ReferrerHost::as_str),
        Some("other.example.com")
    );
}

#[test]
fn event_names_follow_their_pattern() {
    for good in ["add_to_cart", "purchase", "signup", "a", &"x".repeat(40)] {
        assert!(EventName::parse(good).is_ok(), "{good}");
    }
    for bad in ["", "Add", "add-to-cart", "add to cart", &"x".repeat(41)] {
        assert!(EventName::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn an_event_needs_a_name_and_every_bad_field_is_named() {
    let raw = RawEvent {
        kind: "event".to_owned(),
        path: "nope".to_owned(),
        utm_source: Some("x".repeat(101)),
        occurred_at: Some("yesterday".to_owned()),
        ..RawEvent::default()
    };
    let problems = NewEvent::parse(&raw, now(), None).expect_err("invalid");
    let fields: Vec<&str> = problems.iter().map(|(f, _)| *f).collect();
    assert_eq!(fields, ["name", "path", "utmSource", "occurredAt"]);

    let wrong_kind = RawEvent {
        kind: "click".to_owned(),
        path: "/".to_owned(),
        ..RawEvent::default()
    };
    let problems = NewEvent::parse(&wrong_kind, now(), None).expect_err("invalid");
    assert_eq!(problems.first().map(|(f, _)| *f), Some("type"));
}

#[test]
fn the_client_time_counts_only_within_a_day_before_now() {
    let at = |text: &str| {
        let mut raw = pageview("/");
        raw.occurred_at = Some(text.to_owned());
        NewEvent::parse(&raw, now(), None)
            .expect("valid")
            .occurred_at
    };
    let late = Utc
        .with_ymd_and_hms(2026, 3, 9, 23, 0, 0)
        .single()
        .expect("t");
    assert_eq!(at("2026-03-09T23:00:00Z"), late);
    assert_eq!(at("2026-03-08T11:00:00Z"), now(), "more than a day off");
    assert_eq!(at("2026-03-10T13:00:00Z"), now(), "in the future");
    assert_eq!(
        at("2026-03-09T23:00:00Z").date_naive().to_string(),
        "2026-03-09"
    );
}

#[test]
fn explicit_campaign_fields_win_over_the_path_tags_and_blank_ones_are_absent() {
    let mut raw = pageview("/?utm_source=path&utm_campaign=spring");
    raw.utm_source = Some("explicit".to_owned());
    raw.utm_medium = Some("  ".to_owned());
    let event = NewEvent::parse(&raw, now(), None).expect("valid");
    assert_eq!(
        event.utm.source.as_ref().map(UtmValue::as_str),
        Some("explicit")
    );
    assert!(event.utm.medium.is_none());
    assert_eq!(
        event.utm.campaign.as_ref().map(UtmValue::as_str),
        Some("spring")
    );
}

#[test]
fn funnel_rates_divide_each_step_by_the_one_before_and_never_by_zero() {
    let funnel = Funnel::from_counts(FunnelCounts {
        viewers: 3,
        carts: 2,
        purchases: 1,
    });
    assert!((funnel.cart_rate - 0.6667).abs() < 1e-9);
    assert!((funnel.purchase_rate - 0.5).abs() < 1e-9);
    assert!((funnel.conversion_rate - 0.3333).abs() < 1e-9);

    let empty = Funnel::from_counts(FunnelCounts::default());
    assert!(empty.cart_rate == 0.0 && empty.purchase_rate == 0.0 && empty.conversion_rate == 0.0);
}

#[test]
fn a_visitor_hash_is_64_lower_case_hex_and_a_salt_never_prints() {
    assert!(VisitorHash::from_hex(&"a".repeat(64)).is_ok());
    assert!(VisitorHash::from_hex(&"A".repeat(64)).is_err());
    assert!(VisitorHash::from_hex("abc").is_err());
    let salt = DailySalt::new(vec![1, 2, 3]);
    assert_eq!(format!("{salt:?}"), "DailySalt([redacted])");
}
