//! Renders invoices and reads them back with `pdf-extract`, as a PDF reader would.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use nexus_invoice_pdf::PdfInvoiceRenderer;
use nexus_kernel::{Currency, Money};
use nexus_orders::{Buyer, InvoiceDocument, InvoiceLine, InvoiceRenderer, Seller, TaxLine};

fn inr(minor: i64) -> Money {
    Money::new(minor, Currency::INR).expect("valid amount")
}

fn issued_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 10, 30, 0)
        .single()
        .expect("valid date")
}

fn line(description: &str, quantity: u32, unit_minor: i64) -> InvoiceLine {
    InvoiceLine {
        description: description.to_owned(),
        quantity,
        unit_price: inr(unit_minor),
        amount: inr(unit_minor * i64::from(quantity)),
    }
}

fn invoice(lines: Vec<InvoiceLine>, taxes: Vec<TaxLine>) -> InvoiceDocument {
    let subtotal: i64 = lines.iter().map(|l| l.amount.amount_minor()).sum();
    let tax: i64 = taxes.iter().map(|t| t.amount.amount_minor()).sum();
    InvoiceDocument {
        number: "INV-2026-000042".to_owned(),
        issued_at: issued_at(),
        order_reference: "ORD-01JH8Z3K4M".to_owned(),
        payment_reference: "pay_Q1w2E3r4T5y6U7".to_owned(),
        seller: Seller {
            name: "Nexus Learning Pvt Ltd".to_owned(),
            address_lines: vec![
                "4th Floor, Prestige Tower".to_owned(),
                "MG Road, Bengaluru 560001".to_owned(),
                "Karnataka, India".to_owned(),
            ],
            tax_id: Some("29ABCDE1234F1Z5".to_owned()),
            email: "billing@nexus.example".to_owned(),
        },
        buyer: Buyer {
            name: "Asha Raman".to_owned(),
            email: "asha@example.com".to_owned(),
        },
        lines,
        subtotal: inr(subtotal),
        taxes,
        total: inr(subtotal + tax),
        credit_note_for: None,
    }
}

fn sample() -> InvoiceDocument {
    invoice(
        vec![
            line("Rust for Backend Engineers (video course)", 1, 49_900),
            line("Interview prep e-book bundle", 2, 29_900),
            line("Office hours: 30-minute session", 1, 150_000),
        ],
        vec![
            TaxLine {
                label: "CGST 9%".to_owned(),
                amount: inr(23_373),
            },
            TaxLine {
                label: "SGST 9%".to_owned(),
                amount: inr(23_373),
            },
        ],
    )
}

fn render(invoice: &InvoiceDocument) -> Vec<u8> {
    PdfInvoiceRenderer::new()
        .render_pdf(invoice)
        .expect("invoice renders")
}

fn pages_text(pdf: &[u8]) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(pdf).expect("PDF text extracts")
}

fn page_count(pdf: &[u8]) -> usize {
    pdf_extract::Document::load_mem(pdf)
        .expect("PDF parses")
        .get_pages()
        .len()
}

/// The text with runs of whitespace collapsed, so assertions do not depend on how the
/// extractor spaces out positioned text.
fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_rendered_invoice_reads_back_with_all_its_facts() {
    let invoice = sample();

    let pdf = render(&invoice);

    assert!(pdf.starts_with(b"%PDF-"));
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 1);
    assert_eq!(page_count(&pdf), 1);
    let text = normalized(&pages[0]);
    // Kept for humans who want to look at it; not asserted on.
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sample-invoice.pdf"),
        &pdf,
    );
    for expected in [
        "INVOICE",
        "INV-2026-000042",
        "15 Jan 2026",
        "Nexus Learning Pvt Ltd",
        "MG Road, Bengaluru 560001",
        "Tax ID: 29ABCDE1234F1Z5",
        "billing@nexus.example",
        "Asha Raman",
        "asha@example.com",
        "ORD-01JH8Z3K4M",
        "pay_Q1w2E3r4T5y6U7",
        "Rust for Backend Engineers (video course)",
        "Interview prep e-book bundle",
        "Office hours: 30-minute session",
        "INR 499.00",
        "INR 598.00",
        "INR 1,500.00",
        "Subtotal",
        "INR 2,597.00",
        "CGST 9%",
        "SGST 9%",
        "INR 233.73",
        "Total",
        "INR 3,064.46",
        "Page 1 of 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text:?}");
    }
}

#[test]
fn sixty_lines_continue_on_further_pages_with_every_line_and_the_totals() {
    let lines = (1..=60)
        .map(|i| line(&format!("Course module {i:02}"), 1, 10_000))
        .collect();
    let invoice = invoice(lines, Vec::new());

    let pdf = render(&invoice);

    let pages = pages_text(&pdf);
    assert!(
        pages.len() > 1,
        "expected several pages, got {}",
        pages.len()
    );
    assert_eq!(page_count(&pdf), pages.len());
    let all = normalized(&pages.concat());
    for i in 1..=60 {
        let description = format!("Course module {i:02}");
        assert_eq!(all.matches(&description).count(), 1, "{description}");
    }
    assert!(all.contains("INR 6,000.00"));
    let last = normalized(pages.last().expect("a last page"));
    assert!(last.contains("Total"));
    assert!(last.contains(&format!("Page {n} of {n}", n = pages.len())));
    assert!(normalized(&pages[1]).contains("INVOICE INV-2026-000042 (continued)"));
}

#[test]
fn an_invoice_without_taxes_or_lines_still_renders() {
    let invoice = invoice(Vec::new(), Vec::new());

    let pdf = render(&invoice);

    let text = normalized(&pages_text(&pdf).concat());
    assert!(text.contains("Subtotal INR 0.00"));
    assert!(text.contains("Total INR 0.00"));
}

#[test]
fn a_very_long_description_is_wrapped_and_cut_with_an_ellipsis() {
    let long = "An exceptionally detailed course description ".repeat(20);
    let unbroken = "x".repeat(500);
    let invoice = invoice(
        vec![line(&long, 1, 100), line(&unbroken, 1, 100)],
        Vec::new(),
    );

    let pdf = render(&invoice);

    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 1);
    let text = normalized(&pages[0]);
    assert!(text.contains("An exceptionally detailed course description"));
    assert!(text.contains('…'));
    assert!(
        !text.contains(&"x".repeat(200)),
        "unbroken word was not cut"
    );
}

#[test]
fn text_outside_the_font_and_control_characters_do_not_break_rendering() {
    let mut invoice = sample();
    invoice.buyer.name = "Asha\tRaman \u{0905}\u{0936}\u{093E}".to_owned();
    invoice.lines[0].description = "Cours\u{e9} \u{20b9} \u{4e2d}\u{6587}\n".to_owned();
    invoice.seller.tax_id = None;
    invoice.seller.address_lines.clear();

    let pdf = render(&invoice);

    let text = normalized(&pages_text(&pdf).concat());
    assert!(text.contains("Asha Raman"));
    assert!(text.contains("Cours\u{e9} \u{20b9}"));
    assert!(!text.contains("Tax ID"));
}

#[test]
fn the_same_invoice_renders_to_the_same_bytes() {
    let invoice = sample();

    assert_eq!(render(&invoice), render(&invoice));
}

#[test]
fn the_issue_date_follows_the_configured_offset() {
    let mut invoice = sample();
    invoice.issued_at = Utc
        .with_ymd_and_hms(2026, 1, 15, 20, 0, 0)
        .single()
        .expect("valid date");
    let ist = FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("valid offset");

    let pdf = PdfInvoiceRenderer::new()
        .with_utc_offset(ist)
        .render_pdf(&invoice)
        .expect("invoice renders");

    let text = normalized(&pages_text(&pdf).concat());
    assert!(text.contains("16 Jan 2026"), "{text}");
}

#[test]
fn a_credit_note_is_titled_as_one_and_names_its_invoice() {
    let note = InvoiceDocument {
        number: "CN-2026-000001".to_owned(),
        credit_note_for: Some("INV-2026-000042".to_owned()),
        ..sample()
    };

    let text = normalized(&pages_text(&render(&note)).join("\n"));

    assert!(text.contains("CREDIT NOTE"), "{text}");
    assert!(text.contains("Credit note no."), "{text}");
    assert!(text.contains("CN-2026-000001"), "{text}");
    assert!(text.contains("For invoice"), "{text}");
    assert!(text.contains("INV-2026-000042"), "{text}");
    assert!(!text.contains("Invoice no."), "{text}");
}
