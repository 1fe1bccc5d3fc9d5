#![doc = include_str!("../README.md")]

mod layout;
mod money;
mod text;

use chrono::{Datelike, FixedOffset, Offset, Timelike, Utc};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::{Document, metadata};
use nexus_kernel::Unexpected;
use nexus_orders::{InvoiceDocument, InvoiceRenderError, InvoiceRenderer};

use crate::layout::{Op, PAGE_HEIGHT, PAGE_WIDTH, Tone, Weight};
use crate::text::Fonts;

/// Renders invoices as A4 PDFs with DejaVu Sans embedded, so they look the same everywhere
/// and their text can be searched and copied.
#[derive(Debug, Clone, Copy)]
pub struct PdfInvoiceRenderer {
    offset: FixedOffset,
}

impl PdfInvoiceRenderer {
    /// A renderer that prints the issue date in UTC.
    #[must_use]
    pub fn new() -> Self {
        Self { offset: Utc.fix() }
    }

    /// Prints the issue date at `offset` from UTC instead (India: +05:30), so an invoice
    /// issued late in the evening carries the seller's local date.
    #[must_use]
    pub const fn with_utc_offset(mut self, offset: FixedOffset) -> Self {
        self.offset = offset;
        self
    }
}

impl Default for PdfInvoiceRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl InvoiceRenderer for PdfInvoiceRenderer {
    fn render_pdf(&self, invoice: &InvoiceDocument) -> Result<Vec<u8>, InvoiceRenderError> {
        let fonts = Fonts::load()?;
        let pages = layout::layout(invoice, self.offset, &fonts);

        let mut document = Document::new();
        document.set_metadata(metadata_for(invoice));
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| Unexpected::msg("A4 page size rejected"))?;
        for ops in &pages {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            for op in ops {
                draw(&mut surface, &fonts, op);
            }
            surface.finish();
            page.finish();
        }
        document
            .finish()
            .map_err(|e| Unexpected::msg(format!("writing invoice PDF: {e}")).into())
    }
}

/// Title, language and a creation date taken from the invoice itself, so the same invoice
/// always renders to the same bytes.
fn metadata_for(invoice: &InvoiceDocument) -> metadata::Metadata {
    let at = invoice.issued_at;
    let created = u16::try_from(at.year()).ok().map(|year| {
        metadata::DateTime::new(year)
            .month(u8::try_from(at.month()).unwrap_or(1))
            .day(u8::try_from(at.day()).unwrap_or(1))
            .hour(u8::try_from(at.hour()).unwrap_or(0))
            .minute(u8::try_from(at.minute()).unwrap_or(0))
            .second(u8::try_from(at.second()).unwrap_or(0))
            .utc_offset_hour(0)
            .utc_offset_minute(0)
    });
    let meta = metadata::Metadata::new()
        .title(format!(
            "{} {}",
            if invoice.credit_note_for.is_some() {
                "Credit note"
            } else {
                "Invoice"
            },
            invoice.number
        ))
        .creator("Customer Nexus Hub".to_owned())
        .language("en".to_owned());
    match created {
        Some(date) => meta.creation_date(date),
        None => meta,
    }
}

fn color(tone: Tone) -> rgb::Color {
    match tone {
        Tone::Ink => rgb::Color::new(20, 20, 20),
        Tone::Muted => rgb::Color::new(105, 105, 105),
        Tone::Rule => rgb::Color::new(200, 200, 200),
        Tone::Band => rgb::Color::new(236, 236, 236),
    }
}

fn fill(tone: Tone) -> Fill {
    Fill {
        paint: color(tone).into(),
        opacity: NormalizedF32::ONE,
        rule: krilla::paint::FillRule::default(),
    }
}

fn draw(surface: &mut Surface<'_>, fonts: &Fonts, op: &Op) {
    match op {
        Op::Text { x, y, style, text } => {
            let face = match style.weight {
                Weight::Regular => &fonts.regular,
                Weight::Bold => &fonts.bold,
            };
            let glyphs = face.glyphs(text);
            surface.set_stroke(None);
            surface.set_fill(Some(fill(style.tone)));
            surface.draw_glyphs(
                Point::from_xy(*x, *y),
                &glyphs,
                face.font(),
                text,
                style.size,
                false,
            );
        }
        Op::Rule {
            x1,
            x2,
            y,
            width,
            tone,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(*x1, *y);
            path.line_to(*x2, *y);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: color(*tone).into(),
                    width: *width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
            }
        }
        Op::Band { x, y, w, h, tone } => {
            let mut path = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                path.push_rect(rect);
            }
            if let Some(path) = path.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*tone)));
                surface.draw_path(&path);
            }
        }
    }
}
