//! Redirect rules that editors manage: a retired path answers 301, 302 or 410. A rule that
//! would make a loop, or a chain longer than [`MAX_REDIRECT_HOPS`], is refused.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The most rules one request may pass through before it lands.
pub const MAX_REDIRECT_HOPS: usize = 5;

/// What a rule answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RedirectKind {
    /// 301: moved for good; search engines move the ranking.
    #[serde(rename = "301")]
    Permanent,
    /// 302: moved for now.
    #[serde(rename = "302")]
    Temporary,
    /// 410: gone, with nothing in its place.
    #[serde(rename = "410")]
    Gone,
}

impl RedirectKind {
    /// The HTTP status.
    #[must_use]
    pub const fn status(self) -> u16 {
        match self {
            Self::Permanent => 301,
            Self::Temporary => 302,
            Self::Gone => 410,
        }
    }
}

/// Where a rule sends a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RedirectTarget {
    /// A path of this site (`/new-place`): it may be the source of another rule.
    Path(String),
    /// Another site (`https://...`): the chain ends there.
    Url(String),
}

impl RedirectTarget {
    /// The path or URL as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Path(p) | Self::Url(p) => p,
        }
    }
}

/// Why a rule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// The source is not a path of this site.
    #[error(
        "the source must be a path of this site starting with / (at most 500 characters, no query or fragment)"
    )]
    InvalidSource,
    /// The target is neither a path of this site nor an absolute http(s) URL.
    #[error(
        "the target must be a path starting with / or an absolute http(s) URL (at most 2000 characters)"
    )]
    InvalidTarget,
    /// A 301 or 302 without a target, or a 410 with one.
    #[error("301 and 302 need a target; 410 takes none")]
    TargetMismatch,
    /// The rule sends a path to itself or into a chain that comes back to it.
    #[error("the rule makes a redirect loop: {}", .0.join(" -> "))]
    Loop(Vec<String>),
    /// The chain from this rule passes through more than [`MAX_REDIRECT_HOPS`] rules.
    #[error("the rule makes a chain of more than {MAX_REDIRECT_HOPS} redirects: {}", .0.join(" -> "))]
    TooLong(Vec<String>),
}

/// `path` as rules compare it: no trailing slash but on the root.
fn normalized_path(path: &str) -> String {
    let trimmed = path.trim();
    if trimmed.len() > 1 {
        trimmed.trim_end_matches('/').to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn is_site_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 500
        && !path.contains(['?', '#'])
        && path.bytes().all(|b| b.is_ascii_graphic())
}

/// One rule: requests for `from` get `kind`, sent to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    from: String,
    kind: RedirectKind,
    to: Option<RedirectTarget>,
}

impl Redirect {
    /// A rule, checked on its own (not yet against the others: see [`Redirect::check_against`]).
    ///
    /// # Errors
    /// `InvalidSource`, `InvalidTarget`, `TargetMismatch`, or `Loop` when it sends a path
    /// to itself.
    pub fn new(from: &str, kind: RedirectKind, to: Option<&str>) -> Result<Self, RedirectError> {
        let from_path = normalized_path(from);
        if !is_site_path(&from_path) {
            return Err(RedirectError::InvalidSource);
        }
        let to = match (kind, to.map(str::trim).filter(|t| !t.is_empty())) {
            (RedirectKind::Gone, None) => None,
            (RedirectKind::Gone, Some(_)) | (_, None) => {
                return Err(RedirectError::TargetMismatch);
            }
            (_, Some(target)) if target.starts_with('/') => {
                let path = normalized_path(target);
                if !is_site_path(path.split(['?', '#']).next().unwrap_or_default())
                    || path.len() > 2000
                    || !path.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err(RedirectError::InvalidTarget);
                }
                Some(RedirectTarget::Path(path))
            }
            (_, Some(target)) => {
                let lower = target.to_ascii_lowercase();
                let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
                let host_ok = target
                    .split_once("://")
                    .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
                if !scheme_ok
                    || !host_ok
                    || target.len() > 2000
                    || !target.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err(RedirectError::InvalidTarget);
                }
                Some(RedirectTarget::Url(target.to_owned()))
            }
        };
        let rule = Self {
            from: from_path,
            kind,
            to,
        };
        if rule.next_path() == Some(rule.from.as_str()) {
            return Err(RedirectError::Loop(vec![rule.from.clone(), rule.from]));
        }
        Ok(rule)
    }

    /// The source path.
    #[must_use]
    pub fn from(&self) -> &str {
        &self.from
    }

    /// What it answers.
    #[must_use]
    pub const fn kind(&self) -> RedirectKind {
        self.kind
    }

    /// Where it sends, `None` for a 410.
    #[must_use]
    pub const fn to(&self) -> Option<&RedirectTarget> {
        self.to.as_ref()
    }

    /// The path of this site it sends to, without query or fragment, if it sends to one.
    fn next_path(&self) -> Option<&str> {
        match &self.to {
            Some(RedirectTarget::Path(p)) => Some(p.split(['?', '#']).next().unwrap_or(p)),
            _ => None,
        }
    }

    /// Checks this rule against the rules already in force (a rule with the same source
    /// is the one this replaces, and is left out).
    ///
    /// # Errors
    /// `Loop` when following the rules from here comes back to a path already passed,
    /// `TooLong` when it takes more than [`MAX_REDIRECT_HOPS`] rules to land.
    /// The rules that lead here count too: a rule put at the end of a chain of five is
    /// refused like one that starts a chain of six.
    pub fn check_against(&self, existing: &[Self]) -> Result<(), RedirectError> {
        let others: HashMap<&str, &Self> = existing
            .iter()
            .filter(|r| r.from != self.from)
            .map(|r| (r.from.as_str(), r))
            .collect();
        let mut chain = vec![self.from.clone()];
        let mut current = self.next_path().map(ToOwned::to_owned);
        while let Some(path) = current {
            if chain.contains(&path) {
                chain.push(path);
                return Err(RedirectError::Loop(chain));
            }
            chain.push(path.clone());
            let Some(next) = others.get(path.as_str()) else {
                break;
            };
            if chain.len() > MAX_REDIRECT_HOPS {
                return Err(RedirectError::TooLong(chain));
            }
            current = next.next_path().map(ToOwned::to_owned);
        }
        // `chain` holds the paths this rule and the ones after it pass through: one more
        // than those rules when it lands, as many when it stopped on a limit.
        let ahead = chain.len() - 1;
        let mut leading_here: HashMap<&str, Vec<&str>> = HashMap::new();
        for rule in others.values() {
            if let Some(next) = rule.next_path() {
                leading_here
                    .entry(next)
                    .or_default()
                    .push(rule.from.as_str());
            }
        }
        let behind = longest_lead(&leading_here, &self.from, MAX_REDIRECT_HOPS);
        if behind.len() + ahead > MAX_REDIRECT_HOPS {
            let mut whole: Vec<String> = behind.iter().rev().map(|p| (*p).to_owned()).collect();
            whole.extend(chain);
            return Err(RedirectError::TooLong(whole));
        }
        Ok(())
    }
}

/// The longest run of sources whose rules lead, one after the other, to `to` (nearest
/// first), at most `limit` long.
fn longest_lead<'a>(
    leading_here: &HashMap<&str, Vec<&'a str>>,
    to: &str,
    limit: usize,
) -> Vec<&'a str> {
    if limit == 0 {
        return Vec::new();
    }
    let mut best = Vec::new();
    for source in leading_here.get(to).into_iter().flatten() {
        let mut run = vec![*source];
        run.extend(longest_lead(leading_here, source, limit - 1));
        if run.len() > best.len() {
            best = run;
        }
        if best.len() == limit {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(from: &str, to: &str) -> Redirect {
        Redirect::new(from, RedirectKind::Permanent, Some(to)).expect("a valid rule")
    }

    #[test]
    fn a_rule_needs_a_site_path_and_a_target_that_matches_its_kind() {
        assert_eq!(
            Redirect::new("old", RedirectKind::Permanent, Some("/new")),
            Err(RedirectError::InvalidSource)
        );
        assert_eq!(
            Redirect::new("/old?x=1", RedirectKind::Permanent, Some("/new")),
            Err(RedirectError::InvalidSource)
        );
        assert_eq!(
            Redirect::new("/old", RedirectKind::Permanent, None),
            Err(RedirectError::TargetMismatch)
        );
        assert_eq!(
            Redirect::new("/old", RedirectKind::Gone, Some("/new")),
            Err(RedirectError::TargetMismatch)
        );
        for bad in [
            "javascript:alert(1)",
            "ftp://x",
            "//evil.example/x",
            "https://",
        ] {
            assert_eq!(
                Redirect::new("/old", RedirectKind::Temporary, Some(bad)),
                Err(RedirectError::InvalidTarget),
                "{bad}"
            );
        }
        let gone = Redirect::new("/old/", RedirectKind::Gone, None).expect("a 410");
        assert_eq!(gone.from(), "/old");
        assert_eq!(gone.kind().status(), 410);
        let away = Redirect::new("/a", RedirectKind::Temporary, Some("https://x.example/p"))
            .expect("an external target");
        assert_eq!(
            away.to(),
            Some(&RedirectTarget::Url("https://x.example/p".into()))
        );
    }

    #[test]
    fn a_rule_to_itself_is_a_loop() {
        assert!(matches!(
            Redirect::new("/a/", RedirectKind::Permanent, Some("/a")),
            Err(RedirectError::Loop(_))
        ));
    }

    #[test]
    fn a_rule_closing_a_cycle_is_refused_with_the_cycle() {
        let existing = [rule("/b", "/c"), rule("/c", "/a")];
        let err = rule("/a", "/b")
            .check_against(&existing)
            .expect_err("a loop");
        assert_eq!(
            err,
            RedirectError::Loop(vec!["/a".into(), "/b".into(), "/c".into(), "/a".into()])
        );
        assert!(err.to_string().contains("/a -> /b -> /c -> /a"));
    }

    #[test]
    fn a_rule_replacing_the_one_with_its_source_is_checked_without_it() {
        let existing = [rule("/a", "/b"), rule("/b", "/c")];
        assert_eq!(rule("/a", "/c").check_against(&existing), Ok(()));
        assert!(matches!(
            rule("/c", "/a").check_against(&existing),
            Err(RedirectError::Loop(_))
        ));
    }

    #[test]
    fn chains_longer_than_the_limit_are_refused_and_external_targets_end_a_chain() {
        let existing: Vec<Redirect> = (1..=6)
            .map(|i| rule(&format!("/p{i}"), &format!("/p{}", i + 1)))
            .collect();
        assert!(matches!(
            rule("/p0", "/p1").check_against(&existing),
            Err(RedirectError::TooLong(_))
        ));
        assert_eq!(rule("/p0", "/p5").check_against(&existing), Ok(()));
        let external = [
            Redirect::new("/x", RedirectKind::Permanent, Some("https://a.example/x"))
                .expect("external"),
        ];
        assert_eq!(rule("/w", "/x").check_against(&external), Ok(()));
    }

    #[test]
    fn the_rules_leading_to_a_new_one_count_in_its_chain() {
        // /p1 -> /p2 -> ... -> /p5: four rules; a fifth at the end lands in five hops.
        let existing: Vec<Redirect> = (1..=4)
            .map(|i| rule(&format!("/p{i}"), &format!("/p{}", i + 1)))
            .collect();
        assert_eq!(rule("/p5", "/end").check_against(&existing), Ok(()));
        let longer: Vec<Redirect> = existing
            .iter()
            .cloned()
            .chain([rule("/p5", "/p6")])
            .collect();
        let err = rule("/p6", "/end")
            .check_against(&longer)
            .expect_err("six hops");
        assert_eq!(
            err,
            RedirectError::TooLong(
                ["/p1", "/p2", "/p3", "/p4", "/p5", "/p6", "/end"]
                    .map(String::from)
                    .to_vec()
            )
        );
    }
}
