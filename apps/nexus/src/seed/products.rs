//! Twenty published products, each with a real small file and a generated cover image,
//! both stored through the same asset store as uploads.

use std::io::Write as _;

use nexus_catalog::{
    CatalogError, Category, FileName, NewProduct, Product, ProductDescription, ProductFilter,
    ProductStatus, ProductTitle, SearchText, Slug, StagedFile, Tags,
};
use nexus_kernel::{Actor, Money, PageRequest};
use sha2::{Digest as _, Sha256};

use super::{Context as _, Seeder, Tally};
use crate::cli::CliError;

/// What a product's file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Pdf,
    Text,
    Zip,
}

/// A demo product: slug, title, category, price in paise, tags, file kind.
pub(crate) type Demo = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static [&'static str],
    FileKind,
);

/// The demo products.
pub(crate) const PRODUCTS: [Demo; 20] = [
    (
        "gst-invoice-template-pack",
        "GST Invoice Template Pack",
        "templates",
        49_900,
        &["business", "finance"],
        FileKind::Zip,
    ),
    (
        "startup-pitch-deck-guide",
        "Startup Pitch Deck Guide",
        "ebooks",
        79_900,
        &["startup", "guide"],
        FileKind::Pdf,
    ),
    (
        "monthly-budget-planner",
        "Monthly Budget Planner",
        "templates",
        19_900,
        &["finance", "planner"],
        FileKind::Pdf,
    ),
    (
        "customer-onboarding-checklist",
        "Customer Onboarding Checklist",
        "checklists",
        9_900,
        &["crm", "business"],
        FileKind::Text,
    ),
    (
        "rust-web-services-handbook",
        "Rust Web Services Handbook",
        "ebooks",
        149_900,
        &["programming", "rust"],
        FileKind::Pdf,
    ),
    (
        "social-media-calendar-2027",
        "Social Media Calendar 2027",
        "templates",
        29_900,
        &["marketing", "planner"],
        FileKind::Zip,
    ),
    (
        "indian-wedding-planner",
        "Indian Wedding Planner",
        "planners",
        39_900,
        &["events", "planner"],
        FileKind::Pdf,
    ),
    (
        "sales-email-scripts",
        "Sales Email Scripts",
        "scripts",
        24_900,
        &["sales", "email"],
        FileKind::Text,
    ),
    (
        "product-photography-presets",
        "Product Photography Presets",
        "presets",
        59_900,
        &["photography", "design"],
        FileKind::Zip,
    ),
    (
        "ayurvedic-recipes-ebook",
        "Ayurvedic Recipes eBook",
        "ebooks",
        34_900,
        &["food", "health"],
        FileKind::Pdf,
    ),
    (
        "freelancer-contract-kit",
        "Freelancer Contract Kit",
        "templates",
        69_900,
        &["legal", "freelance"],
        FileKind::Zip,
    ),
    (
        "yoga-for-desk-workers",
        "Yoga for Desk Workers",
        "guides",
        14_900,
        &["health", "guide"],
        FileKind::Pdf,
    ),
    (
        "seo-audit-worksheet",
        "SEO Audit Worksheet",
        "checklists",
        19_900,
        &["marketing", "seo"],
        FileKind::Text,
    ),
    (
        "hindi-phrasebook-for-travellers",
        "Hindi Phrasebook for Travellers",
        "ebooks",
        12_900,
        &["language", "travel"],
        FileKind::Pdf,
    ),
    (
        "ui-icon-set-outline",
        "UI Icon Set (Outline)",
        "design",
        89_900,
        &["design", "icons"],
        FileKind::Zip,
    ),
    (
        "gst-filing-quick-reference",
        "GST Filing Quick Reference",
        "guides",
        0,
        &["finance", "free"],
        FileKind::Pdf,
    ),
    (
        "okr-planning-workbook",
        "OKR Planning Workbook",
        "templates",
        44_900,
        &["management", "planner"],
        FileKind::Pdf,
    ),
    (
        "podcast-launch-checklist",
        "Podcast Launch Checklist",
        "checklists",
        9_900,
        &["media", "marketing"],
        FileKind::Text,
    ),
    (
        "resume-templates-modern",
        "Modern Resume Templates",
        "templates",
        29_900,
        &["career", "design"],
        FileKind::Zip,
    ),
    (
        "home-bakery-business-plan",
        "Home Bakery Business Plan",
        "ebooks",
        54_900,
        &["food", "business"],
        FileKind::Pdf,
    ),
];

/// Creates, gives a file and a cover to and publishes every demo product not yet on sale
/// (and gives a cover to one on sale without).
pub(super) async fn seed(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let admin = seeder.staff()?.admin();
    let service = &seeder.state.products;
    let currency = service.store_currency();
    let staging = seeder.settings.storage.upload_dir.clone();
    std::fs::create_dir_all(&staging).ctx("making the upload directory")?;
    let mut tally = Tally::default();
    let mut products = Vec::new();
    for (slug, title, category, price, tags, kind) in PRODUCTS {
        let description = format!(
            "{title}: a ready-to-use digital download from the Nexus demo store. \
             Instant access after payment; free updates for a year."
        );
        let input = NewProduct {
            slug: Slug::parse(slug).ctx("a product slug")?,
            title: ProductTitle::parse(title).ctx("a product title")?,
            description: ProductDescription::parse(&description).ctx("a description")?,
            price: Money::new(price, currency).ctx("a price")?,
            category: Category::parse(category).ctx("a category")?,
            tags: Tags::parse(tags).ctx("product tags")?,
            // The cover is uploaded below: a demo store must not depend on another site for
            // its pictures.
            preview_image_url: None,
        };
        let mut product = match service.create(&admin, input).await {
            Ok(p) => p,
            Err(CatalogError::SlugTaken) => find(seeder, &admin, slug, title).await?,
            Err(e) => return Err(e).ctx("creating a product"),
        };
        if product.cover.is_none() {
            product = service
                .set_cover(&admin, product.id, None, super::images::cover(slug))
                .await
                .ctx("storing a product cover")?;
        }
        if product.status == ProductStatus::Published {
            tally.skipped += 1;
            products.push(product);
            continue;
        }
        if product.asset.is_none() {
            let (name, content_type, bytes) = file_for(title, kind);
            let staged = stage(&staging, &bytes)?;
            let file_name = FileName::parse(&name).ctx("a file name")?;
            let attached = service
                .attach_asset(&admin, product.id, file_name, content_type, &staged.file)
                .await;
            drop(staged);
            product = attached.ctx("storing a product file")?;
        }
        product = service
            .publish(&admin, product.id)
            .await
            .ctx("publishing a product")?;
        tally.created += 1;
        products.push(product);
    }
    seeder.products = products;
    Ok(tally)
}

/// A product whose slug is taken: one this command made earlier (found by its title).
async fn find(
    seeder: &Seeder<'_>,
    admin: &Actor,
    slug: &str,
    title: &str,
) -> Result<Product, CliError> {
    let filter = ProductFilter {
        q: Some(SearchText::parse(title).ctx("a search")?),
        ..ProductFilter::default()
    };
    let page = seeder
        .state
        .products
        .list_admin(admin, filter, PageRequest::new(Some(1), Some(100)))
        .await
        .ctx("looking for a product")?;
    page.items
        .into_iter()
        .find(|p| p.slug.as_str() == slug)
        .ok_or_else(|| {
            CliError::Refused(format!(
                "seed: the slug {slug} is taken by another product; seed a fresh database"
            ))
        })
}

/// A file in the upload directory, deleted when dropped (if the store did not move it).
struct Staged {
    file: StagedFile,
    _path: tempfile::TempPath,
}

fn stage(dir: &std::path::Path, bytes: &[u8]) -> Result<Staged, CliError> {
    let mut temp = tempfile::Builder::new()
        .prefix("seed-")
        .tempfile_in(dir)
        .ctx("staging a product file")?;
    temp.write_all(bytes).ctx("staging a product file")?;
    temp.flush().ctx("staging a product file")?;
    let path = temp.into_temp_path();
    Ok(Staged {
        file: StagedFile {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            sha256_hex: hex::encode(Sha256::digest(bytes)),
        },
        _path: path,
    })
}

/// The file of a product: name, MIME type, bytes.
pub(crate) fn file_for(title: &str, kind: FileKind) -> (String, &'static str, Vec<u8>) {
    let stem: String = title
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let readme = format!(
        "{title}\n\nThank you for your purchase from the Nexus demo store.\n\
         This file was made by `nexus seed` as sample content.\n"
    );
    match kind {
        FileKind::Pdf => (format!("{stem}.pdf"), "application/pdf", pdf(title)),
        FileKind::Text => (format!("{stem}.txt"), "text/plain", readme.into_bytes()),
        FileKind::Zip => (
            format!("{stem}.zip"),
            "application/zip",
            zip(&[
                ("README.txt", readme.as_bytes()),
                (
                    "LICENSE.txt",
                    b"Single-user licence for the buyer of this product.\n",
                ),
            ]),
        ),
    }
}

/// A one-page PDF showing `title`.
pub(crate) fn pdf(title: &str) -> Vec<u8> {
    let text: String = title
        .chars()
        .filter(|c| c.is_ascii() && !matches!(c, '(' | ')' | '\\'))
        .collect();
    let stream = format!("BT /F1 24 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A ZIP archive holding `entries` stored uncompressed.
pub(crate) fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let crc = crc32(data);
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        // Local file header: version 1.0, no flags, stored, a fixed time (1 Jan 2026).
        let common = |buf: &mut Vec<u8>| {
            buf.extend_from_slice(&10u16.to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes());
            buf.extend_from_slice(&0x5C21u16.to_le_bytes());
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&name_len.to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes());
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&10u16.to_le_bytes());
        common(&mut central);
        // Comment length, disk, internal and external attributes, offset.
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
    let central_at = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let central_len = u32::try_from(central.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&central_len.to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// CRC-32 (IEEE), as ZIP records it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn files_look_like_what_they_claim() {
        let (name, kind, pdf) = file_for("Monthly Budget Planner", FileKind::Pdf);
        assert_eq!(
            (name.as_str(), kind),
            ("monthly-budget-planner.pdf", "application/pdf")
        );
        assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
        let xref = String::from_utf8_lossy(&pdf)
            .find("xref")
            .unwrap_or_default();
        assert!(String::from_utf8_lossy(&pdf).contains(&format!("startxref\n{xref}\n")));
        let (_, _, zip) = file_for("Kit", FileKind::Zip);
        assert!(zip.starts_with(b"PK\x03\x04"));
        assert_eq!(&zip[zip.len() - 22..zip.len() - 18], b"PK\x05\x06");
    }
}
