//! Lays an invoice out as a list of pages of simple drawing operations.
//!
//! Layout is separate from drawing because every page's footer says "Page i of n": the page
//! count must be known before the first page is written, and krilla writes pages in order.

use chrono::FixedOffset;
use nexus_orders::InvoiceDocument;

use crate::money::format_money;
use crate::text::{Face, Fonts};

/// A4 in points.
pub(crate) const PAGE_WIDTH: f32 = 595.28;
/// A4 in points.
pub(crate) const PAGE_HEIGHT: f32 = 841.89;

const MARGIN: f32 = 48.0;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;
const CONTENT_WIDTH: f32 = RIGHT - MARGIN;
/// Rows and totals stop here; the footer sits below.
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 64.0;

const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;
const LINE: f32 = 12.0;

/// Left edge of the right-hand blocks (invoice number, references).
const SIDE_X: f32 = RIGHT - 230.0;
const SIDE_WIDTH: f32 = RIGHT - SIDE_X;
const SELLER_WIDTH: f32 = SIDE_X - MARGIN - 16.0;

const CELL_PAD: f32 = 6.0;
const DESC_X: f32 = MARGIN + CELL_PAD;
const DESC_WIDTH: f32 = 250.0;
const QTY_RIGHT: f32 = MARGIN + 300.0;
const UNIT_RIGHT: f32 = MARGIN + 395.0;
const AMOUNT_RIGHT: f32 = RIGHT - CELL_PAD;
/// Widest an amount may be before it is drawn smaller.
const MONEY_WIDTH: f32 = 90.0;
const QTY_WIDTH: f32 = 40.0;
const MAX_DESC_LINES: usize = 3;
const HEADER_ROW: f32 = 18.0;

const TOTAL_ROW: f32 = 15.0;
const TOTAL_LABEL_WIDTH: f32 = 160.0;

/// Shades of grey, 0 = black.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Ink,
    Muted,
    Rule,
    Band,
}

/// Which face to draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// Size, face and colour of a piece of text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub(crate) size: f32,
    pub(crate) weight: Weight,
    pub(crate) tone: Tone,
}

const fn style(size: f32, weight: Weight, tone: Tone) -> Style {
    Style { size, weight, tone }
}

const BODY_TEXT: Style = style(BODY, Weight::Regular, Tone::Ink);
const LABEL: Style = style(BODY, Weight::Regular, Tone::Muted);
const CAPTION: Style = style(SMALL, Weight::Bold, Tone::Muted);
const FOOTNOTE: Style = style(SMALL, Weight::Regular, Tone::Muted);
const COLUMN_HEAD: Style = style(8.5, Weight::Bold, Tone::Ink);

/// One drawing operation; `y` grows downwards from the top of the page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// Text whose baseline starts at (`x`, `y`); already sanitized for the face.
    Text {
        x: f32,
        y: f32,
        style: Style,
        text: String,
    },
    /// A horizontal line.
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
        tone: Tone,
    },
    /// A filled rectangle.
    Band {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        tone: Tone,
    },
}

/// Everything on one page.
pub(crate) type Page = Vec<Op>;

struct Writer<'a> {
    fonts: &'a Fonts,
    ops: Vec<Op>,
}

impl Writer<'_> {
    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.fonts.regular,
            Weight::Bold => &self.fonts.bold,
        }
    }

    /// Left-aligned text, cut with an ellipsis beyond `max_width`.
    fn left(&mut self, x: f32, y: f32, style: Style, text: &str, max_width: f32) {
        let face = self.face(style.weight);
        let text = face.ellipsize(&face.sanitize(text), style.size, max_width);
        self.ops.push(Op::Text { x, y, style, text });
    }

    /// Right-aligned text ending at `right`; shrunk (not cut) to fit `max_width`, because
    /// numbers must never be truncated.
    fn right(&mut self, right: f32, y: f32, style: Style, text: &str, max_width: f32) {
        let face = self.face(style.weight);
        let text = face.sanitize(text);
        let size = face.fit_size(&text, style.size, 5.0, max_width);
        let x = right - face.width(&text, size);
        let style = Style { size, ..style };
        self.ops.push(Op::Text { x, y, style, text });
    }

    /// Right-aligned text cut with an ellipsis beyond `max_width` (labels, not numbers).
    fn right_cut(&mut self, right: f32, y: f32, style: Style, text: &str, max_width: f32) {
        let face = self.face(style.weight);
        let text = face.ellipsize(&face.sanitize(text), style.size, max_width);
        let x = right - face.width(&text, style.size);
        self.ops.push(Op::Text { x, y, style, text });
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32, tone: Tone) {
        self.ops.push(Op::Rule {
            x1,
            x2,
            y,
            width,
            tone,
        });
    }

    fn finish_page(&mut self, pages: &mut Vec<Page>) {
        pages.push(std::mem::take(&mut self.ops));
    }
}

/// A table row, measured.
struct Row {
    description: Vec<String>,
    quantity: String,
    unit_price: String,
    amount: String,
}

impl Row {
    fn height(&self) -> f32 {
        // At least one line, so an empty description still gets a row.
        let lines = self.description.len().max(1) as f32;
        lines * LINE + 6.0
    }
}

/// Lays out `invoice` as pages; the date is printed at `offset` from UTC.
pub(crate) fn layout(invoice: &InvoiceDocument, offset: FixedOffset, fonts: &Fonts) -> Vec<Page> {
    let mut w = Writer {
        fonts,
        ops: Vec::new(),
    };
    let mut pages = Vec::new();

    let mut y = first_page_header(&mut w, invoice, offset);
    y = table_header(&mut w, y);

    let rows = invoice.lines.iter().map(|line| Row {
        description: fonts.regular.wrap(
            &fonts.regular.sanitize(&line.description),
            BODY,
            DESC_WIDTH,
            MAX_DESC_LINES,
        ),
        quantity: line.quantity.to_string(),
        unit_price: format_money(line.unit_price),
        amount: format_money(line.amount),
    });
    for row in rows {
        if y + row.height() > CONTENT_BOTTOM {
            w.finish_page(&mut pages);
            y = continuation_header(&mut w, invoice);
            y = table_header(&mut w, y);
        }
        y = table_row(&mut w, y, &row);
    }

    let mut totals: Vec<(String, String, bool)> = Vec::with_capacity(invoice.taxes.len() + 2);
    totals.push(("Subtotal".to_owned(), format_money(invoice.subtotal), false));
    for tax in &invoice.taxes {
        totals.push((tax.label.clone(), format_money(tax.amount), false));
    }
    totals.push(("Total".to_owned(), format_money(invoice.total), true));

    // Keep the totals together unless there are too many to fit any page.
    let block = 8.0 + totals.len() as f32 * TOTAL_ROW + 6.0;
    if y + block > CONTENT_BOTTOM && block < CONTENT_BOTTOM - MARGIN - 40.0 {
        w.finish_page(&mut pages);
        y = continuation_header(&mut w, invoice);
    }
    y += 8.0;
    for (label, value, is_total) in &totals {
        if y + TOTAL_ROW + 6.0 > CONTENT_BOTTOM {
            w.finish_page(&mut pages);
            y = continuation_header(&mut w, invoice);
        }
        y = total_row(&mut w, y, label, value, *is_total);
    }
    w.finish_page(&mut pages);

    let count = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        let mut f = Writer {
            fonts,
            ops: std::mem::take(page),
        };
        footer(&mut f, invoice, i + 1, count);
        *page = f.ops;
    }
    pages
}

/// Seller, title, buyer and references; returns where the table starts.
fn first_page_header(w: &mut Writer<'_>, invoice: &InvoiceDocument, offset: FixedOffset) -> f32 {
    let seller = &invoice.seller;
    let mut left = MARGIN;
    w.left(
        MARGIN,
        left + 13.0,
        style(13.0, Weight::Bold, Tone::Ink),
        &seller.name,
        SELLER_WIDTH,
    );
    left += 19.0;
    let tax_id = seller.tax_id.as_ref().map(|id| format!("Tax ID: {id}"));
    let lines = seller
        .address_lines
        .iter()
        .chain(tax_id.as_ref())
        .chain(std::iter::once(&seller.email));
    for line in lines {
        w.left(MARGIN, left + BODY, BODY_TEXT, line, SELLER_WIDTH);
        left += LINE;
    }

    let mut side = MARGIN;
    w.right(
        RIGHT,
        side + 20.0,
        style(22.0, Weight::Bold, Tone::Ink),
        title(invoice),
        SIDE_WIDTH,
    );
    side += 34.0;
    let date = invoice
        .issued_at
        .with_timezone(&offset)
        .format("%d %b %Y")
        .to_string();
    let number_style = style(BODY, Weight::Bold, Tone::Ink);
    let number_label = if invoice.credit_note_for.is_some() {
        "Credit note no."
    } else {
        "Invoice no."
    };
    let mut side_lines = vec![(number_label, invoice.number.as_str(), number_style)];
    if let Some(of) = &invoice.credit_note_for {
        side_lines.push(("For invoice", of.as_str(), BODY_TEXT));
    }
    side_lines.push(("Date", date.as_str(), BODY_TEXT));
    for (label, value, value_style) in side_lines {
        w.left(SIDE_X, side + BODY, LABEL, label, 70.0);
        w.right_cut(RIGHT, side + BODY, value_style, value, SIDE_WIDTH - 75.0);
        side += LINE + 1.0;
    }

    let mut y = left.max(side) + 12.0;
    w.rule(MARGIN, RIGHT, y, 0.6, Tone::Rule);
    y += 14.0;

    let mut buyer = y;
    w.left(MARGIN, buyer + SMALL, CAPTION, "BILL TO", SELLER_WIDTH);
    buyer += 12.0;
    let name_style = style(10.0, Weight::Bold, Tone::Ink);
    w.left(
        MARGIN,
        buyer + 10.0,
        name_style,
        &invoice.buyer.name,
        SELLER_WIDTH,
    );
    buyer += 14.0;
    w.left(
        MARGIN,
        buyer + BODY,
        BODY_TEXT,
        &invoice.buyer.email,
        SELLER_WIDTH,
    );
    buyer += LINE;

    let mut refs = y;
    for (label, value) in [
        ("ORDER REFERENCE", invoice.order_reference.as_str()),
        ("PAYMENT REFERENCE", invoice.payment_reference.as_str()),
    ] {
        w.left(SIDE_X, refs + SMALL, CAPTION, label, SIDE_WIDTH);
        refs += 11.0;
        w.left(SIDE_X, refs + BODY, BODY_TEXT, value, SIDE_WIDTH);
        refs += LINE + 4.0;
    }

    buyer.max(refs) + 14.0
}

/// The slim header of every page after the first; returns where content starts.
fn continuation_header(w: &mut Writer<'_>, invoice: &InvoiceDocument) -> f32 {
    let title = format!("{} {} (continued)", title(invoice), invoice.number);
    let title_style = style(11.0, Weight::Bold, Tone::Ink);
    w.left(
        MARGIN,
        MARGIN + 11.0,
        title_style,
        &title,
        CONTENT_WIDTH * 0.6,
    );
    let seller = &invoice.seller.name;
    w.right_cut(RIGHT, MARGIN + 11.0, LABEL, seller, CONTENT_WIDTH * 0.35);
    MARGIN + 28.0
}

fn table_header(w: &mut Writer<'_>, y: f32) -> f32 {
    w.ops.push(Op::Band {
        x: MARGIN,
        y,
        w: CONTENT_WIDTH,
        h: HEADER_ROW,
        tone: Tone::Band,
    });
    let base = y + 12.0;
    w.left(DESC_X, base, COLUMN_HEAD, "Description", DESC_WIDTH);
    w.right(QTY_RIGHT, base, COLUMN_HEAD, "Qty", QTY_WIDTH);
    w.right(UNIT_RIGHT, base, COLUMN_HEAD, "Unit price", MONEY_WIDTH);
    w.right(AMOUNT_RIGHT, base, COLUMN_HEAD, "Amount", MONEY_WIDTH);
    y + HEADER_ROW + 2.0
}

fn table_row(w: &mut Writer<'_>, y: f32, row: &Row) -> f32 {
    let base = y + 3.0 + BODY;
    let mut line_y = base;
    for line in &row.description {
        // Already sanitized and wrapped to the column.
        w.ops.push(Op::Text {
            x: DESC_X,
            y: line_y,
            style: BODY_TEXT,
            text: line.clone(),
        });
        line_y += LINE;
    }
    w.right(QTY_RIGHT, base, BODY_TEXT, &row.quantity, QTY_WIDTH);
    w.right(UNIT_RIGHT, base, BODY_TEXT, &row.unit_price, MONEY_WIDTH);
    w.right(AMOUNT_RIGHT, base, BODY_TEXT, &row.amount, MONEY_WIDTH);
    let bottom = y + row.height();
    w.rule(MARGIN, RIGHT, bottom, 0.4, Tone::Rule);
    bottom
}

fn total_row(w: &mut Writer<'_>, y: f32, label: &str, value: &str, is_total: bool) -> f32 {
    let (text_style, y) = if is_total {
        w.rule(UNIT_RIGHT - 100.0, RIGHT, y + 1.0, 0.8, Tone::Ink);
        (style(10.0, Weight::Bold, Tone::Ink), y + 4.0)
    } else {
        (BODY_TEXT, y)
    };
    let base = y + 11.0;
    w.right_cut(UNIT_RIGHT, base, text_style, label, TOTAL_LABEL_WIDTH);
    w.right(AMOUNT_RIGHT, base, text_style, value, MONEY_WIDTH + 10.0);
    y + TOTAL_ROW
}

fn footer(w: &mut Writer<'_>, invoice: &InvoiceDocument, page: usize, pages: usize) {
    let y = PAGE_HEIGHT - 36.0;
    w.rule(MARGIN, RIGHT, y - 12.0, 0.4, Tone::Rule);
    let kind = if invoice.credit_note_for.is_some() {
        "Credit note"
    } else {
        "Invoice"
    };
    let left = format!("{} \u{b7} {kind} {}", invoice.seller.name, invoice.number);
    w.left(MARGIN, y, FOOTNOTE, &left, CONTENT_WIDTH * 0.7);
    let right = format!("Page {page} of {pages}");
    w.right(RIGHT, y, FOOTNOTE, &right, CONTENT_WIDTH * 0.25);
}

/// The document's title: `INVOICE`, or `CREDIT NOTE` for the refund of one.
fn title(invoice: &InvoiceDocument) -> &'static str {
    if invoice.credit_note_for.is_some() {
        "CREDIT NOTE"
    } else {
        "INVOICE"
    }
}
