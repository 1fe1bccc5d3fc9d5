//! Six published CMS pages: home, about, contact, FAQ, terms and privacy.

use nexus_content::{ContentError, PageInput, Seo};
use serde_json::{Value, json};

use super::{Context as _, Seeder, Tally};
use crate::cli::CliError;

/// The demo pages: key (also the slug), title, meta description.
pub(crate) const PAGES: [(&str, &str, &str); 6] = [
    (
        "home",
        "Digital products for Indian businesses",
        "Templates, guides and kits made in India, delivered instantly.",
    ),
    (
        "about",
        "About Nexus",
        "Who we are and how we build the products we sell.",
    ),
    (
        "contact",
        "Contact us",
        "Write to us, or find our office in Bengaluru.",
    ),
    (
        "faq",
        "Frequently asked questions",
        "Payments, downloads, invoices and refunds explained.",
    ),
    (
        "terms",
        "Terms of sale",
        "The terms that apply to every purchase.",
    ),
    (
        "privacy",
        "Privacy policy",
        "What we store about you, and for how long.",
    ),
];

/// Creates and publishes every demo page whose key is free.
pub(super) async fn seed(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let editor = seeder.staff()?.editor();
    let products: Vec<String> = seeder
        .products
        .iter()
        .take(8)
        .map(|p| p.id.to_string())
        .collect();
    let mut tally = Tally::default();
    for (key, title, description) in PAGES {
        let input = PageInput {
            key: key.to_owned(),
            slug: key.to_owned(),
            locale: None,
            title: title.to_owned(),
            blocks: blocks(key, title, description, &products),
            seo: Seo {
                meta_title: Some(format!("{title} | Nexus")),
                meta_description: Some(description.to_owned()),
                canonical: None,
                social_image: None,
                robots: Some("index,follow".to_owned()),
            },
        };
        let page = match seeder.state.pages.create(&editor, input).await {
            Ok(page) => page,
            Err(ContentError::KeyTaken | ContentError::SlugTaken) => {
                tally.skipped += 1;
                continue;
            }
            Err(e) => return Err(e).ctx("creating a page"),
        };
        seeder
            .state
            .pages
            .publish(&editor, page.id, page.version)
            .await
            .ctx("publishing a page")?;
        tally.created += 1;
    }
    Ok(tally)
}

fn blocks(key: &str, title: &str, description: &str, products: &[String]) -> Vec<Value> {
    let mut blocks = vec![json!({
        "type": "hero",
        "heading": title,
        "subheading": description,
        "cta": {"label": "Browse the store", "href": "/products"},
    })];
    match key {
        "home" if !products.is_empty() => {
            blocks.push(json!({"type": "productGrid", "productIds": products}));
        }
        "faq" => blocks.push(json!({"type": "faq", "items": [
            {"question": "How do I pay?", "answer": "By UPI, card or net banking through Razorpay."},
            {"question": "Where are my files?", "answer": "In your library, right after payment."},
            {"question": "Do I get a GST invoice?", "answer": "Yes: every order has a PDF invoice."},
            {"question": "Can I get a refund?", "answer": "Within 7 days, with a credit note."},
        ]})),
        _ => {}
    }
    blocks.push(json!({
        "type": "richText",
        "text": format!(
            "## {title}\n\n{description}\n\nNexus is a small team in Bengaluru making \
             practical digital products. Write to support@example.com with any question."
        ),
    }));
    blocks
}
