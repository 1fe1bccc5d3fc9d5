//! The usual XSS payloads, written into Markdown every way an author could: none survives
//! as markup, script, handler or dangerous URL.

use nexus_markdown::MarkdownRenderer;

const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"javascript:alert(1)\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<body onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](  javascript:alert(1)  )",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x\" onerror=\"alert(1)](https://img.example/a.png)",
    "[x](https://example.com/\" onmouseover=\"alert(1))",
    "<https://example.com/\"onmouseover=\"alert(1)>",
    "[a]: javascript:alert(1)\n\n[link][a]",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<!-- --><script>alert(1)</script>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<base href=\"javascript:alert(1)//\">",
    "<a href=\"https://evil.example\" target=\"_blank\" rel=\"opener\">x</a>",
];

/// The real tags of `html` (an attacker's `<` is text, `&lt;`): each as its name and its
/// attributes (name, value), values read up to their closing quote.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    for chunk in html.split('<').skip(1) {
        let mut chars = chunk.chars().peekable();
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '>') {
            name.push(c);
        }
        let mut attributes = Vec::new();
        loop {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            match chars.peek() {
                None | Some('>') => break,
                _ => {}
            }
            let mut key = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=' && *c != '>') {
                key.push(c);
            }
            let mut value = String::new();
            if chars.next_if_eq(&'=').is_some() {
                if chars.next_if_eq(&'"').is_some() {
                    for c in chars.by_ref() {
                        if c == '"' {
                            break;
                        }
                        value.push(c);
                    }
                } else {
                    while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '>') {
                        value.push(c);
                    }
                }
            }
            attributes.push((key.to_ascii_lowercase(), value.to_ascii_lowercase()));
        }
        found.push((
            name.trim_start_matches('/').to_ascii_lowercase(),
            attributes,
        ));
    }
    found
}

const ALLOWED_TAGS: &[&str] = &[
    "p",
    "a",
    "em",
    "strong",
    "code",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "del",
    "br",
    "hr",
];
const ALLOWED_ATTRIBUTES: &[&str] = &["href", "src", "alt", "title", "rel", "align", "start"];

fn assert_safe(html: &str, payload: &str) {
    for (name, attributes) in tags(html) {
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "{payload:?} left a <{name}> tag: {html}"
        );
        for (attribute, value) in attributes {
            assert!(
                ALLOWED_ATTRIBUTES.contains(&attribute.as_str()),
                "{payload:?} left attribute {attribute} on <{name}>: {html}"
            );
            for scheme in ["javascript:", "vbscript:", "data:"] {
                assert!(
                    !value.trim_start().starts_with(scheme),
                    "{payload:?} left a {scheme} URL: {html}"
                );
            }
            if attribute == "rel" {
                assert_eq!(value, "noopener nofollow", "{payload:?}: {html}");
            }
        }
    }
}

#[test]
fn no_payload_survives_in_a_paragraph_a_list_a_quote_or_a_table() {
    let renderer = MarkdownRenderer::new(Some("https://shop.example"));
    for payload in PAYLOADS {
        for markdown in [
            (*payload).to_owned(),
            format!("Text before {payload} and after."),
            format!("- {payload}\n- item"),
            format!("> {payload}"),
            format!("| a | b |\n|---|---|\n| {payload} | x |"),
            format!("# {payload}"),
        ] {
            let rendered = renderer.render(&markdown);
            assert_safe(&rendered.html, payload);
        }
    }
}

#[test]
fn dangerous_link_targets_lose_their_url_but_keep_their_text() {
    let renderer = MarkdownRenderer::new(None);
    let rendered =
        renderer.render("[click me](javascript:alert(1)) and ![pic](data:image/png;base64,AAAA)");
    assert!(rendered.html.contains("click me"), "{}", rendered.html);
    assert!(!rendered.html.contains("javascript"), "{}", rendered.html);
    assert!(!rendered.html.contains("data:"), "{}", rendered.html);
}

#[test]
fn external_links_get_noopener_nofollow_and_internal_ones_do_not() {
    let renderer = MarkdownRenderer::new(Some("https://Shop.Example"));
    let rendered = renderer.render(
        "[out](https://other.example/a?b=1&c=2) [in](/pricing) [own](https://shop.example/about) [proto](//cdn.example/x) [mail](mailto:hi@shop.example)",
    );
    let html = &rendered.html;
    assert!(
        html.contains(
            r#"<a href="https://other.example/a?b=1&amp;c=2" rel="noopener nofollow">out</a>"#
        ),
        "{html}"
    );
    assert!(html.contains(r#"<a href="/pricing">in</a>"#), "{html}");
    assert!(
        html.contains(r#"<a href="https://shop.example/about">own</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="//cdn.example/x" rel="noopener nofollow">proto</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="mailto:hi@shop.example">mail</a>"#),
        "{html}"
    );
    assert_eq!(
        rendered.links,
        [
            "https://other.example/a?b=1&c=2",
            "/pricing",
            "https://shop.example/about",
            "//cdn.example/x",
            "mailto:hi@shop.example"
        ]
    );
}

#[test]
fn an_author_cannot_forge_or_drop_the_rel_of_an_external_link() {
    let renderer = MarkdownRenderer::new(Some("https://shop.example"));
    let html = renderer
        .render(r#"<a href="https://evil.example" rel="opener">raw</a> [md](https://evil.example)"#)
        .html;
    assert!(
        !html.contains(r#"<a href="https://evil.example" rel="opener""#),
        "{html}"
    );
    assert!(html.contains("&lt;a href="), "raw HTML is text: {html}");
    assert!(html.contains(r#"rel="noopener nofollow">md</a>"#), "{html}");
}

#[test]
fn text_words_images_and_reading_time_come_out_of_the_markdown() {
    let renderer = MarkdownRenderer::new(None);
    let body = format!(
        "# Title here\n\nFirst *para* with `code`.\n\n![A cover](/img/c.png) ![](/img/no-alt.png)\n\n{}",
        "word ".repeat(400)
    );
    let rendered = renderer.render(&body);
    assert!(
        rendered
            .text
            .starts_with("Title here\nFirst para with code."),
        "{}",
        rendered.text
    );
    assert!(!rendered.text.contains("A cover"));
    assert_eq!(rendered.words, 2 + 4 + 400);
    assert_eq!(
        rendered.images,
        [
            ("/img/c.png".to_owned(), "A cover".to_owned()),
            ("/img/no-alt.png".to_owned(), String::new())
        ]
    );
    assert_eq!(rendered.reading_minutes(), 3);
    assert_eq!(renderer.render("").reading_minutes(), 1);
    assert!(rendered.html.contains("<h1>Title here</h1>"));
    assert!(rendered.html.contains("<em>para</em>"));
    assert!(
        rendered
            .html
            .contains(r#"<img src="/img/c.png" alt="A cover">"#),
        "{}",
        rendered.html
    );
}
