//! The bundled fonts: measuring, wrapping and turning text into positioned glyphs.
//!
//! krilla's `simple-text` feature would shape text with rustybuzz, but it cannot tell us how
//! wide a string is, and right-aligned amounts and wrapped descriptions need exactly that.
//! So we map characters to glyphs ourselves with skrifa (already a krilla dependency) and use
//! the same advances for measuring and drawing. No kerning or complex-script shaping: fine for
//! the Latin text, digits and currency signs an invoice holds.

use krilla::Data;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use nexus_kernel::Unexpected;
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// What replaces a character the font has no glyph for, so the page and the extracted text
/// agree.
const REPLACEMENT: char = '?';
const ELLIPSIS: char = '\u{2026}';

/// One font face: the krilla font to embed plus skrifa tables to measure with.
pub(crate) struct Face {
    font: Font,
    charmap: Charmap<'static>,
    /// Advances at 1 pixel per em, i.e. in ems: what `KrillaGlyph` wants.
    metrics: GlyphMetrics<'static>,
}

impl Face {
    fn load(data: &'static [u8], name: &'static str) -> Result<Self, Unexpected> {
        let font_ref = FontRef::new(data).map_err(|e| Unexpected::new(name, e))?;
        let charmap = font_ref.charmap();
        let metrics = font_ref.glyph_metrics(Size::new(1.0), LocationRef::default());
        let font = Font::new(Data::from(data), 0).ok_or_else(|| Unexpected::msg(name))?;
        Ok(Self {
            font,
            charmap,
            metrics,
        })
    }

    /// The krilla font, for drawing.
    pub(crate) fn font(&self) -> Font {
        self.font.clone()
    }

    /// `text` with control characters as spaces and characters this face cannot draw as `?`.
    pub(crate) fn sanitize(&self, text: &str) -> String {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    ' '
                } else if self.charmap.map(c).is_some() {
                    c
                } else {
                    REPLACEMENT
                }
            })
            .collect()
    }

    fn advance(&self, c: char) -> f32 {
        self.charmap
            .map(c)
            .and_then(|gid| self.metrics.advance_width(gid))
            .unwrap_or(0.0)
    }

    /// Width of `text` in points at `size`.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size
    }

    /// The glyphs of `text`, one per character, each mapped back to its bytes so the PDF's
    /// text can be extracted and searched.
    pub(crate) fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, c)| {
                let gid = self.charmap.map(c).map_or(0, |g| g.to_u32());
                KrillaGlyph::new(
                    GlyphId::new(gid),
                    self.advance(c),
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                )
            })
            .collect()
    }

    /// `text` cut so it fits `max_width`, ending in an ellipsis when something was cut.
    pub(crate) fn ellipsize(&self, text: &str, size: f32, max_width: f32) -> String {
        if self.width(text, size) <= max_width {
            return text.to_owned();
        }
        self.with_ellipsis(text, size, max_width)
    }

    /// As much of `text` as fits `max_width` together with a trailing ellipsis.
    fn with_ellipsis(&self, text: &str, size: f32, max_width: f32) -> String {
        let budget = max_width - self.advance(ELLIPSIS) * size;
        let mut used = 0.0;
        let mut out = String::new();
        for c in text.chars() {
            let w = self.advance(c) * size;
            if used + w > budget {
                break;
            }
            used += w;
            out.push(c);
        }
        let mut out = out.trim_end().to_owned();
        out.push(ELLIPSIS);
        out
    }

    /// Greedy word wrap into at most `max_lines` lines of `max_width`; words wider than a line
    /// are broken between characters, and the last line ends in an ellipsis when text was cut.
    pub(crate) fn wrap(
        &self,
        text: &str,
        size: f32,
        max_width: f32,
        max_lines: usize,
    ) -> Vec<String> {
        let space = self.advance(' ') * size;
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        let mut line_w = 0.0_f32;
        let mut cut = false;

        'words: for word in text.split_whitespace() {
            let word_w = self.width(word, size);
            let gap = if line.is_empty() { 0.0 } else { space };
            if line_w + gap + word_w <= max_width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += gap + word_w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
                if lines.len() == max_lines {
                    cut = true;
                    break;
                }
            }
            if word_w <= max_width {
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            // A word longer than a whole line (a URL, a licence key): break it anywhere.
            for c in word.chars() {
                let w = self.advance(c) * size;
                if line_w + w > max_width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                    if lines.len() == max_lines {
                        cut = true;
                        break 'words;
                    }
                }
                line.push(c);
                line_w += w;
            }
        }
        if !line.is_empty() {
            if lines.len() == max_lines {
                cut = true;
            } else {
                lines.push(line);
            }
        }
        if cut && let Some(last) = lines.last_mut() {
            *last = self.with_ellipsis(last, size, max_width);
        }
        lines
    }

    /// The largest size up to `size` at which `text` fits `max_width` (never below `min`).
    pub(crate) fn fit_size(&self, text: &str, size: f32, min: f32, max_width: f32) -> f32 {
        let w = self.width(text, size);
        if w <= max_width || w <= 0.0 {
            size
        } else {
            (size * max_width / w).max(min)
        }
    }
}

/// The regular and bold faces of the bundled DejaVu Sans.
pub(crate) struct Fonts {
    pub(crate) regular: Face,
    pub(crate) bold: Face,
}

impl Fonts {
    pub(crate) fn load() -> Result<Self, Unexpected> {
        Ok(Self {
            regular: Face::load(DEJAVU_SANS, "loading the bundled DejaVu Sans")?,
            bold: Face::load(DEJAVU_SANS_BOLD, "loading the bundled DejaVu Sans Bold")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular() -> Face {
        Fonts::load().expect("bundled fonts load").regular
    }

    #[test]
    fn rupee_sign_and_ellipsis_are_in_the_font() {
        let face = regular();
        assert_eq!(face.sanitize("₹499 …"), "₹499 …");
    }

    #[test]
    fn missing_glyphs_and_control_characters_are_replaced() {
        let face = regular();
        assert_eq!(face.sanitize("a\tb\u{4e2d}"), "a b?");
    }

    #[test]
    fn short_text_is_one_line() {
        let face = regular();
        assert_eq!(
            face.wrap("Course: Rust", 9.0, 200.0, 3),
            vec!["Course: Rust"]
        );
    }

    #[test]
    fn empty_text_has_no_lines() {
        let face = regular();
        assert!(face.wrap("   ", 9.0, 200.0, 3).is_empty());
    }

    #[test]
    fn long_text_wraps_within_the_width_and_ends_in_an_ellipsis() {
        let face = regular();
        let text = "word ".repeat(200);

        let lines = face.wrap(&text, 9.0, 120.0, 3);

        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| face.width(l, 9.0) <= 120.0));
        assert!(lines[2].ends_with('…'));
        assert!(!lines[0].ends_with('…'));
    }

    #[test]
    fn a_word_longer_than_a_line_is_broken() {
        let face = regular();
        let text = "x".repeat(300);

        let lines = face.wrap(&text, 9.0, 100.0, 2);

        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| face.width(l, 9.0) <= 100.0));
        assert!(lines[1].ends_with('…'));
    }

    #[test]
    fn text_that_exactly_fills_the_lines_gets_no_ellipsis() {
        let face = regular();

        let lines = face.wrap("alpha beta", 9.0, face.width("alpha", 9.0) + 1.0, 2);

        assert_eq!(lines, vec!["alpha", "beta"]);
    }

    #[test]
    fn ellipsize_keeps_fitting_text_and_cuts_the_rest() {
        let face = regular();
        assert_eq!(face.ellipsize("short", 9.0, 100.0), "short");
        let cut = face.ellipsize(&"long ".repeat(50), 9.0, 100.0);
        assert!(cut.ends_with('…'));
        assert!(face.width(&cut, 9.0) <= 100.0);
    }

    #[test]
    fn fit_size_shrinks_only_text_that_is_too_wide() {
        let face = regular();
        assert!((face.fit_size("1", 9.0, 6.0, 100.0) - 9.0).abs() < f32::EPSILON);
        let shrunk = face.fit_size(&"9".repeat(40), 9.0, 6.0, 100.0);
        assert!((6.0..9.0).contains(&shrunk));
    }
}
