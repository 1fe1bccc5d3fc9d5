use uuid::Uuid;

use super::*;
use crate::subject::SeoImage;

/// A page every rule is happy with.
fn good_page(path: &str, title: &str, description: &str) -> SeoSubject {
    SeoSubject {
        kind: SubjectKind::Page,
        id: Uuid::now_v7(),
        path: path.into(),
        slug: path.trim_start_matches('/').replace('/', "-"),
        title: title.into(),
        meta_title: None,
        meta_description: Some(description.into()),
        canonical: Some(format!("https://shop.example{path}")),
        text: "word ".repeat(320),
        images: vec![SeoImage {
            src: "/img/cover.png".into(),
            alt: Some("A cover".into()),
        }],
        links: vec![
            "/pricing".into(),
            "https://elsewhere.example/".into(),
            "#top".into(),
        ],
    }
}

const DESCRIPTION: &str = "Everything a buyer needs to know about our guides, in one place.";

fn rules_of(audit: &Audit) -> Vec<RuleId> {
    audit.findings.iter().map(|f| f.rule).collect()
}

fn site_with(subjects: &[&SeoSubject]) -> SiteContext {
    SiteContext::of(
        subjects.iter().copied(),
        ["/".to_owned(), "/pricing".to_owned()],
    )
}

#[test]
fn a_page_that_keeps_every_rule_scores_100() {
    let page = good_page(
        "/about-our-guides",
        "About our guides and how they are written",
        DESCRIPTION,
    );
    let audit = audit(&page, &site_with(&[&page]));
    assert_eq!(audit.findings, []);
    assert_eq!(audit.score, 100);
}

#[test]
fn titles_outside_30_to_60_characters_are_warned_and_a_blank_one_is_an_error() {
    let mut page = good_page("/a", "Short", DESCRIPTION);
    let short = audit(&page, &site_with(&[&page]));
    assert_eq!(rules_of(&short), [RuleId::TitleLength]);
    assert_eq!(short.findings[0].severity, Severity::Warning);
    assert_eq!(short.score, 93);

    page.title = "x".repeat(61);
    assert_eq!(
        rules_of(&audit(&page, &site_with(&[&page]))),
        [RuleId::TitleLength]
    );

    // The meta title is what counts when set.
    page.meta_title = Some("A meta title of a good length for results".into());
    assert_eq!(audit(&page, &site_with(&[&page])).findings, []);

    page.title = "   ".into();
    page.meta_title = Some(" ".into());
    let blank = audit(&page, &site_with(&[&page]));
    assert_eq!(blank.findings[0].rule, RuleId::TitleLength);
    assert_eq!(blank.findings[0].severity, Severity::Error);
}

#[test]
fn the_meta_description_must_be_there_and_50_to_160_characters() {
    let title = "A title of a perfectly good length here";
    let mut page = good_page("/a", title, "");
    let missing = audit(&page, &site_with(&[&page]));
    assert_eq!(rules_of(&missing), [RuleId::MetaDescriptionMissing]);
    assert_eq!(missing.score, 80);

    page.meta_description = Some("Too short.".into());
    assert_eq!(
        rules_of(&audit(&page, &site_with(&[&page]))),
        [RuleId::MetaDescriptionLength]
    );
    page.meta_description = Some("y".repeat(161));
    assert_eq!(
        rules_of(&audit(&page, &site_with(&[&page]))),
        [RuleId::MetaDescriptionLength]
    );
    page.meta_description = Some("y".repeat(160));
    assert_eq!(audit(&page, &site_with(&[&page])).findings, []);
}

#[test]
fn slugs_must_be_lower_case_words_joined_by_single_hyphens() {
    let title = "A title of a perfectly good length here";
    for bad in [
        "Upper",
        "two--hyphens",
        "-lead",
        "trail-",
        "under_score",
        "",
        "ünï",
    ] {
        let mut page = good_page("/a", title, DESCRIPTION);
        page.slug = bad.into();
        let found = audit(&page, &site_with(&[&page]));
        assert_eq!(rules_of(&found), [RuleId::SlugFormat], "{bad:?}");
        assert_eq!(found.findings[0].severity, Severity::Error);
    }
    let mut long = good_page("/a", title, DESCRIPTION);
    long.slug = "word-".repeat(16) + "end";
    let found = audit(&long, &site_with(&[&long]));
    assert_eq!(rules_of(&found), [RuleId::SlugFormat]);
    assert_eq!(found.findings[0].severity, Severity::Notice);
}

#[test]
fn items_sharing_a_title_or_description_are_duplicates_whatever_the_case_and_spacing() {
    let title = "A title of a perfectly good length here";
    let one = good_page("/one", title, DESCRIPTION);
    let mut two = good_page(
        "/two",
        "  a TITLE of a perfectly good   length here ",
        DESCRIPTION,
    );
    two.meta_description = Some(DESCRIPTION.to_uppercase());
    let three = good_page(
        "/three",
        "Another title that is different enough",
        "A description of its own that is quite long enough.",
    );
    let site = site_with(&[&one, &two, &three]);
    assert_eq!(
        rules_of(&audit(&one, &site)),
        [RuleId::DuplicateTitle, RuleId::DuplicateDescription]
    );
    assert_eq!(
        rules_of(&audit(&two, &site)),
        [RuleId::DuplicateTitle, RuleId::DuplicateDescription]
    );
    assert_eq!(audit(&three, &site).findings, []);
}

#[test]
fn images_without_alt_text_are_listed() {
    let mut page = good_page("/a", "A title of a perfectly good length here", DESCRIPTION);
    page.images.push(SeoImage {
        src: "/img/no-alt.png".into(),
        alt: None,
    });
    page.images.push(SeoImage {
        src: "/img/blank.png".into(),
        alt: Some("  ".into()),
    });
    let found = audit(&page, &site_with(&[&page]));
    assert_eq!(rules_of(&found), [RuleId::ImageAlt]);
    assert!(found.findings[0].message.contains("2 image(s)"));
    assert!(found.findings[0].message.contains("/img/no-alt.png"));
    assert!(!found.findings[0].message.contains("cover.png"));
}

#[test]
fn internal_links_to_unpublished_paths_are_broken_and_others_are_not_checked() {
    let mut page = good_page("/a", "A title of a perfectly good length here", DESCRIPTION);
    page.links = vec![
        "/pricing?ref=nav#top".into(),
        "/pricing/".into(),
        "/a".into(),
        "/gone".into(),
        "/gone#x".into(),
        "/also-gone".into(),
        "//cdn.example/x".into(),
        "mailto:hi@example.com".into(),
        "https://example.com/gone".into(),
    ];
    let found = audit(&page, &site_with(&[&page]));
    assert_eq!(rules_of(&found), [RuleId::BrokenInternalLink]);
    assert_eq!(
        found.findings[0].message,
        "links to paths where nothing is published: /also-gone, /gone"
    );
}

#[test]
fn no_canonical_is_a_notice_and_thin_content_depends_on_the_kind() {
    let mut page = good_page("/a", "A title of a perfectly good length here", DESCRIPTION);
    page.canonical = None;
    page.text = "word ".repeat(120);
    let found = audit(&page, &site_with(&[&page]));
    assert_eq!(
        rules_of(&found),
        [RuleId::ThinContent, RuleId::CanonicalMissing]
    );
    assert_eq!(found.score, 100 - 7 - 2);
    assert!(found.findings[0].message.contains("120 words"));

    // 120 words are plenty for a product.
    page.kind = SubjectKind::Product;
    assert_eq!(
        rules_of(&audit(&page, &site_with(&[&page]))),
        [RuleId::CanonicalMissing]
    );
}

#[test]
fn findings_come_worst_first_and_the_score_never_goes_below_zero() {
    let mut page = good_page("/a", "", "");
    page.slug = "Bad Slug".into();
    page.canonical = None;
    page.text = String::new();
    page.images = vec![SeoImage {
        src: "/x.png".into(),
        alt: None,
    }];
    page.links = vec!["/nowhere".into()];
    let found = audit(&page, &site_with(&[&page]));
    let severities: Vec<Severity> = found.findings.iter().map(|f| f.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted);
    assert_eq!(found.findings.len(), 7, "{found:?}");
    assert_eq!(found.score, 100u32.saturating_sub(20 * 4 + 7 * 2 + 2));
    assert_eq!(found.score, 4);
}

#[test]
fn the_site_report_lists_the_worst_items_first_with_the_mean_score() {
    let good = good_page(
        "/good",
        "A title of a perfectly good length here",
        DESCRIPTION,
    );
    let mut bad = good_page("/bad", "Short", "");
    bad.links = vec!["/missing".into()];
    let mut product = good_page(
        "/products/guide",
        "A guide to writing guides that sell",
        "Guides that sell, written by people who sold them, for people who will sell them.",
    );
    product.kind = SubjectKind::Product;
    product.canonical = None;

    let report = audit_site(
        &[good.clone(), bad.clone(), product.clone()],
        ["/".to_owned(), "/pricing".to_owned()],
    );

    let order: Vec<&str> = report.items.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(order, ["/bad", "/products/guide", "/good"]);
    let scores: Vec<u32> = report.items.iter().map(|a| a.score).collect();
    assert_eq!(scores, [100 - 7 - 20 - 20, 98, 100]);
    assert_eq!(report.score, (53 + 98 + 100) / 3);
    assert_eq!(audit_site(&[], Vec::new()).score, 100);
}

#[test]
fn every_rule_has_a_stable_wire_name() {
    let names: Vec<String> = RuleId::ALL
        .iter()
        .map(|r| {
            serde_json::to_value(r)
                .expect("serializes")
                .as_str()
                .expect("a string")
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "title_length",
            "meta_description_missing",
            "meta_description_length",
            "slug_format",
            "duplicate_title",
            "duplicate_description",
            "image_alt",
            "broken_internal_link",
            "canonical_missing",
            "thin_content",
        ]
    );
}
