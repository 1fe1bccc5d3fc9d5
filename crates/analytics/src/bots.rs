//! Known automated clients, recognised by their user agent.

/// Lower-case fragments of user agents that belong to crawlers, scripts and headless
/// browsers. A user agent containing any of them (case-insensitively) is a bot; so is an
/// empty one, which no browser sends.
pub const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawler",
    "crawl",
    "spider",
    "slurp",
    "headless",
    "curl",
    "wget",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww-perl",
    "node-fetch",
    "axios",
    "scrapy",
    "phantomjs",
    "selenium",
    "puppeteer",
    "playwright",
    "lighthouse",
    "pingdom",
    "uptimerobot",
    "facebookexternalhit",
    "preview",
    "wrk",
];

/// Whether `user_agent` is a known bot (or empty).
#[must_use]
pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.trim().to_ascii_lowercase();
    ua.is_empty() || BOT_MARKERS.iter().any(|marker| ua.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crawlers_scripts_and_headless_browsers_are_bots() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
            "Mozilla/5.0 (compatible; Yahoo! Slurp)",
            "Baiduspider",
            "curl/8.5.0",
            "Wget/1.21",
            "python-requests/2.31",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0",
            "Go-http-client/1.1",
            "",
            "   ",
        ] {
            assert!(is_bot(ua), "{ua:?} should be a bot");
        }
    }

    #[test]
    fn browsers_are_not_bots() {
        for ua in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        ] {
            assert!(!is_bot(ua), "{ua:?} should not be a bot");
        }
    }
}
