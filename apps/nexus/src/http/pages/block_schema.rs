//! The OpenAPI schema of one page block (`PageBlock`): one object per `type`, with the
//! limits `nexus_content::blocks` enforces, so a generated client knows every block and a
//! request the schema accepts is one the API accepts. Bodies are still read as JSON and
//! checked by the domain, which names each problem with its path
//! (`blocks[2].items[0].question`); this module only describes them.

use std::borrow::Cow;

use nexus_content::blocks::{MAX_FAQ_ITEMS, MAX_GRID_PRODUCTS, MAX_RICH_TEXT_CHARS, MAX_URL_CHARS};
use utoipa::openapi::schema::{
    ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Documents a page block; never built.
pub enum PageBlock {}

/// A text of at most `max` characters that is not blank when `required`.
fn text(max: usize, required: bool, description: &str) -> ObjectBuilder {
    let s = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .description(Some(description));
    if required {
        s.min_length(Some(1)).pattern(Some(r"\S"))
    } else {
        s
    }
}

/// `schema`, or `null`: an optional field may be left out or given as `null`.
fn nullable(schema: impl Into<RefOr<Schema>>) -> OneOfBuilder {
    OneOfBuilder::new()
        .item(schema)
        .item(ObjectBuilder::new().schema_type(Type::Null))
}

/// A path on this site (`/...`, never `//host`) or an `https://` URL, without white
/// space, backslashes or control characters (`nexus_content::blocks::check_url`).
fn url(description: &str) -> ObjectBuilder {
    const SAFE: &str = r"[^\s\\\x00-\x1f\x7f-\x9f]";
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_URL_CHARS))
        .pattern(Some(format!(
            r"^(?:/(?:[^/\s\\\x00-\x1f\x7f-\x9f]{SAFE}*)?|[Hh][Tt][Tt][Pp][Ss]://{SAFE}+)$"
        )))
        .description(Some(description))
}

/// An object with a `type` tag and the given properties.
fn kind(tag: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .property(
            "type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([tag])),
        )
        .required("type")
}

fn link() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("label", text(80, true, "Text on the button."))
        .required("label")
        .property("href", url("Where it leads."))
        .required("href")
}

fn image_ref() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("url", url("Where the picture is."))
        .required("url")
        .property(
            "alt",
            text(
                300,
                false,
                "Alternative text (empty for a decorative picture).",
            ),
        )
        .required("alt")
}

fn grid_query() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("category", nullable(text(60, true, "A category.")))
        .property("tag", nullable(text(40, true, "A tag.")))
        .property(
            "limit",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_GRID_PRODUCTS as u64))
                .description(Some("How many products.")),
        )
        .required("limit")
}

fn hero() -> ObjectBuilder {
    kind(
        "hero",
        "A heading banner, with an optional picture and button.",
    )
    .property("heading", text(200, true, "The heading."))
    .required("heading")
    .property("subheading", nullable(text(500, false, "A line under it.")))
    .property("image", nullable(image_ref()))
    .property("cta", nullable(link()))
}

fn rich_text() -> ObjectBuilder {
    kind(
        "richText",
        "Markdown or HTML source kept as text; the storefront renders and sanitizes it.",
    )
    .property("text", text(MAX_RICH_TEXT_CHARS, true, "The source."))
    .required("text")
}

/// A product grid lists its products or finds them by a query, never both: two shapes,
/// each requiring its own field, so an object with both matches neither.
fn product_grid() -> OneOfBuilder {
    let listed = kind("productGrid", "Products listed by id, in order.")
        .property(
            "productIds",
            ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                )
                .min_items(Some(1))
                .max_items(Some(MAX_GRID_PRODUCTS)),
        )
        .required("productIds")
        .property("query", ObjectBuilder::new().schema_type(Type::Null));
    let queried = kind("productGrid", "Products found by a catalog query.")
        .property("query", grid_query())
        .required("query")
        .property("productIds", ObjectBuilder::new().schema_type(Type::Null));
    OneOfBuilder::new().item(listed).item(queried)
}

fn faq() -> ObjectBuilder {
    let item = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("question", text(300, true, "The question."))
        .required("question")
        .property("answer", text(5_000, true, "The answer."))
        .required("answer");
    kind("faq", "Questions and answers.")
        .property(
            "items",
            ArrayBuilder::new()
                .items(item)
                .min_items(Some(1))
                .max_items(Some(MAX_FAQ_ITEMS)),
        )
        .required("items")
}

fn call_to_action() -> ObjectBuilder {
    kind("callToAction", "A button.")
        .property("label", text(80, true, "Text on the button."))
        .required("label")
        .property("href", url("Where it leads."))
        .required("href")
        .property(
            "style",
            nullable(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["primary", "secondary", "link"])),
            ),
        )
}

fn image() -> ObjectBuilder {
    kind("image", "A picture.")
        .property("url", url("Where it is."))
        .required("url")
        .property(
            "alt",
            text(
                300,
                false,
                "Alternative text (empty for a decorative picture).",
            ),
        )
        .required("alt")
        .property("caption", nullable(text(500, false, "A caption.")))
}

impl PartialSchema for PageBlock {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some(
                "One block of a page, by its `type`: hero, richText, productGrid, faq, \
                 callToAction or image.",
            ))
            .item(hero())
            .item(rich_text())
            .item(product_grid())
            .item(faq())
            .item(call_to_action())
            .item(image())
            .into()
    }
}

impl ToSchema for PageBlock {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PageBlock")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The document's schema, as JSON, to read its shape.
    fn schema() -> Value {
        serde_json::to_value(PageBlock::schema()).expect("serializes")
    }

    #[test]
    fn every_block_kind_has_one_shape_and_the_grid_two() {
        let s = schema();
        let tags: Vec<Value> = s["oneOf"]
            .as_array()
            .expect("oneOf")
            .iter()
            .flat_map(|v| match v.get("oneOf") {
                Some(inner) => inner.as_array().expect("inner oneOf").clone(),
                None => vec![v.clone()],
            })
            .map(|v| v["properties"]["type"]["enum"][0].clone())
            .collect();
        assert_eq!(
            tags,
            vec![
                json!("hero"),
                json!("richText"),
                json!("productGrid"),
                json!("productGrid"),
                json!("faq"),
                json!("callToAction"),
                json!("image"),
            ]
        );
    }

    #[test]
    fn the_url_pattern_agrees_with_the_domain_check() {
        let s = schema();
        let call_to_action = s["oneOf"]
            .as_array()
            .expect("oneOf")
            .iter()
            .find(|v| v["properties"]["type"]["enum"][0] == "callToAction")
            .expect("a callToAction shape");
        let pattern = call_to_action["properties"]["href"]["pattern"]
            .as_str()
            .expect("a pattern")
            .to_owned();
        let re = regex::Regex::new(&pattern).expect("compiles");
        for value in [
            "/",
            "/shop",
            "/a/b?c=d#e",
            "https://x.example/a",
            "HTTPS://X.EXAMPLE",
            "//evil.example",
            "http://x.example",
            "javascript:alert(1)",
            "https://",
            "/a b",
            "/a\\b",
            "/a\u{7}",
            "",
            "https://x.example/\u{85}",
        ] {
            assert_eq!(
                re.is_match(value),
                nexus_content::blocks::check_url(value).is_ok(),
                "{value:?}"
            );
        }
    }
}
