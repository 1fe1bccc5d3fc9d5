//! How the sitemap is split: one `<urlset>` while the whole site fits in one file, else a
//! sitemap index with one file per kind of item (more when a kind outgrows a file).

use crate::subject::SubjectKind;

/// The most URLs one sitemap file may list (the sitemaps.org limit).
pub const SITEMAP_URL_LIMIT: u64 = 50_000;

/// One file of a split sitemap: the `number`th (from 1) run of `kind`'s items in the walk
/// order, skipping the first `skip` and listing at most `take`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SitemapPart {
    /// The kind of item it lists.
    pub kind: SubjectKind,
    /// Its number among the files of its kind, from 1.
    pub number: u64,
    /// Items of its kind to pass over first.
    pub skip: u64,
    /// The most items it lists.
    pub take: u64,
}

impl SitemapPart {
    /// Its file name without extension: `products-1`, `pages-2`, `posts-1`.
    #[must_use]
    pub fn name(&self) -> String {
        format!("{}-{}", plural(self.kind), self.number)
    }

    /// The part named `name` (as [`SitemapPart::name`] writes it) of a sitemap whose files
    /// hold `max_urls` each; `None` when the name is not one.
    #[must_use]
    pub fn parse(name: &str, max_urls: u64) -> Option<Self> {
        let (kind, number) = name.rsplit_once('-')?;
        let kind = [SubjectKind::Product, SubjectKind::Page, SubjectKind::Post]
            .into_iter()
            .find(|k| plural(*k) == kind)?;
        if number.starts_with('0') || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number: u64 = number.parse().ok().filter(|n| *n >= 1)?;
        let max_urls = max_urls.max(1);
        Some(Self {
            kind,
            number,
            skip: (number - 1).checked_mul(max_urls)?,
            take: max_urls,
        })
    }
}

const fn plural(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Product => "products",
        SubjectKind::Page => "pages",
        SubjectKind::Post => "posts",
    }
}

/// What `/sitemap.xml` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SitemapPlan {
    /// Every URL in one `<urlset>`.
    Single,
    /// A `<sitemapindex>` of these files.
    Index(Vec<SitemapPart>),
}

/// The plan for a site with `counts` published items of each kind, at most `max_urls`
/// (clamped to 1..=[`SITEMAP_URL_LIMIT`]) per file.
#[must_use]
pub fn plan_sitemap(counts: &[(SubjectKind, u64)], max_urls: u64) -> SitemapPlan {
    let max_urls = max_urls.clamp(1, SITEMAP_URL_LIMIT);
    let total: u64 = counts.iter().map(|(_, n)| *n).sum();
    if total <= max_urls {
        return SitemapPlan::Single;
    }
    let parts = counts
        .iter()
        .flat_map(|(kind, count)| {
            (1..=count.div_ceil(max_urls)).map(move |number| SitemapPart {
                kind: *kind,
                number,
                skip: (number - 1) * max_urls,
                take: max_urls,
            })
        })
        .collect();
    SitemapPlan::Index(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_that_fits_is_one_file() {
        assert_eq!(
            plan_sitemap(&[(SubjectKind::Product, 3), (SubjectKind::Page, 2)], 5),
            SitemapPlan::Single
        );
        assert_eq!(plan_sitemap(&[], 5), SitemapPlan::Single);
    }

    #[test]
    fn a_larger_site_is_an_index_of_files_per_kind() {
        let SitemapPlan::Index(parts) = plan_sitemap(
            &[
                (SubjectKind::Product, 5),
                (SubjectKind::Page, 0),
                (SubjectKind::Post, 1),
            ],
            2,
        ) else {
            panic!("an index")
        };
        let names: Vec<String> = parts.iter().map(SitemapPart::name).collect();
        assert_eq!(names, ["products-1", "products-2", "products-3", "posts-1"]);
        assert_eq!((parts[2].skip, parts[2].take), (4, 2));
        for part in parts {
            assert_eq!(SitemapPart::parse(&part.name(), 2), Some(part));
        }
    }

    #[test]
    fn only_names_the_plan_writes_parse() {
        for bad in [
            "products",
            "products-0",
            "products-01",
            "products-x",
            "users-1",
            "products-+1",
            "",
        ] {
            assert_eq!(SitemapPart::parse(bad, 10), None, "{bad:?}");
        }
        assert_eq!(
            SitemapPart::parse("products-99999999999999999999", 10),
            None
        );
        assert_eq!(SitemapPart::parse(&format!("pages-{}", u64::MAX), 10), None);
    }
}
