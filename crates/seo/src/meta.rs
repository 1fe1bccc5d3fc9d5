//! Meta titles and descriptions generated from content when an editor left them empty.
//! The caller stores them marked as generated and never lets them replace what an editor
//! wrote.

/// How many words `text` has (runs of characters between white space that hold a letter
/// or a digit).
#[must_use]
pub fn words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// The longest prefix of `text` of at most `max` characters that ends at a word boundary
/// (the whole text when it fits), with white space collapsed.
fn cut_at_word(text: &str, max: usize) -> (String, bool) {
    let mut out = String::new();
    for word in text.split_whitespace() {
        let extra = usize::from(!out.is_empty()) + word.chars().count();
        if out.chars().count() + extra > max {
            return (out, true);
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (out, false)
}

/// A meta title for an item titled `title` on the site `site_name`: `title | site_name`
/// when that fits in 60 characters, else the title cut at a word within 60.
#[must_use]
pub fn generated_title(title: &str, site_name: &str) -> String {
    let (title, _) = cut_at_word(title, 60);
    let site_name = site_name.trim();
    let joined = format!("{title} | {site_name}");
    if !site_name.is_empty() && joined.chars().count() <= 60 {
        joined
    } else {
        title
    }
}

/// A meta description from body text: its first sentences up to 155 characters, cut at a
/// word and ended with `…` when cut; `None` when the text has too few words (under 8) to
/// describe anything.
#[must_use]
pub fn generated_description(text: &str) -> Option<String> {
    if words(text) < 8 {
        return None;
    }
    let (cut, was_cut) = cut_at_word(text, 154);
    if !was_cut {
        return Some(cut);
    }
    // Prefer ending at a sentence when one ends past the middle.
    if let Some(end) = cut.rfind(['.', '!', '?'])
        && end >= 80
    {
        return Some(cut[..=end].to_owned());
    }
    let cut = cut.trim_end_matches([',', ';', ':', '-', ' ']);
    Some(format!("{cut}…"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_with_a_letter_or_digit() {
        assert_eq!(words("  one, two -- 3 \n four "), 4);
        assert_eq!(words(""), 0);
    }

    #[test]
    fn a_generated_title_adds_the_site_name_when_it_fits() {
        assert_eq!(generated_title("Pricing", "Nexus"), "Pricing | Nexus");
        let long = "A very long title about the many ways of writing good guides for buyers";
        let generated = generated_title(long, "Nexus");
        assert!(generated.chars().count() <= 60, "{generated}");
        assert!(long.starts_with(&generated));
        assert!(!generated.contains('|'));
    }

    #[test]
    fn a_generated_description_keeps_to_155_characters_at_a_word() {
        assert_eq!(generated_description("Too short to say much."), None);
        let short = "Eight words make a description that fits whole here.";
        assert_eq!(generated_description(short).as_deref(), Some(short));
        let text = "Learn to write guides that sell. ".repeat(20);
        let generated = generated_description(&text).expect("enough words");
        assert!(generated.chars().count() <= 155, "{generated}");
        assert!(generated.ends_with('.'), "ends at a sentence: {generated}");
        let run_on = "word ".repeat(100);
        let generated = generated_description(&run_on).expect("enough words");
        assert!(generated.ends_with("word…"), "{generated}");
        assert!(generated.chars().count() <= 155);
    }
}
