//! Sign-in providers for the tests: a real OpenID Connect server run locally
//! (oauth2-mock-server from npm, through `scripts/oidc_provider.mjs`) standing in for Google,
//! and a fake of GitHub's OAuth and REST endpoints (wiremock) written from GitHub's
//! documentation. Helpers walk the browser's part of the flow.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use wiremock::{Request, Respond, ResponseTemplate};

use super::*;
use crate::mail::workspace;

/// The client id the app is given for each provider in these tests.
pub const OAUTH_CLIENT_ID: &str = "nexus-test-client";
/// The client secret the app is given for each provider in these tests.
pub const OAUTH_CLIENT_SECRET: &str = "nexus-test-secret";
/// The redirect base the app is given: the tests carry the code and state over themselves.
pub const OAUTH_REDIRECT_BASE: &str = "http://app.test";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// oauth2-mock-server's library entry point under `<workspace>/.tools`, installing it with
/// `scripts/test-tools.sh` when missing.
fn mock_server_module() -> Option<PathBuf> {
    let module = workspace().join(".tools/node_modules/oauth2-mock-server/dist/index.mjs");
    if module.is_file() {
        return Some(module);
    }
    let installed = Command::new("bash")
        .arg(workspace().join("scripts/test-tools.sh"))
        .status()
        .is_ok_and(|s| s.success());
    (installed && module.is_file()).then_some(module)
}

/// A local OpenID Connect provider: discovery, JWKS, authorize and token endpoints, with
/// RS256 ID tokens. Stopped when dropped.
pub struct OidcProvider {
    child: Child,
    /// The issuer (`http://127.0.0.1:<port>`), for `GOOGLE_ISSUER`.
    pub issuer: String,
    control: String,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OidcProvider {
    /// Starts the provider. `None` (the caller skips, with a note) when Node or the package
    /// is missing; with `CI=true` that fails the test instead.
    ///
    /// # Panics
    /// Under `CI=true` without the tools, or when the provider does not get ready.
    #[must_use]
    pub fn start() -> Option<Self> {
        let Some(module) = mock_server_module() else {
            assert!(
                !in_ci(),
                "oauth2-mock-server is needed (run `bash scripts/test-tools.sh`; CI=true fails instead of skipping)"
            );
            note("note: oauth2-mock-server (npm) is not available; skipping this sign-in test");
            return None;
        };
        let mut child = match Command::new("node")
            .arg(workspace().join("scripts/oidc_provider.mjs"))
            .arg(&module)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                assert!(!in_ci(), "node cannot be started: {e}");
                note(&format!("note: node cannot be started ({e}); skipping"));
                return None;
            }
        };
        let stdout = child.stdout.take().expect("a piped stdout");
        let (ready, readied) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    let _ = ready.send(value);
                }
            }
        });
        let Ok(info) = readied.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the OpenID Connect provider did not get ready; see its stderr above");
        };
        Some(Self {
            child,
            issuer: info["issuer"].as_str().expect("an issuer").to_owned(),
            control: info["control"].as_str().expect("a control URL").to_owned(),
        })
    }

    /// Adds a signing key: from now on the provider's keys take turns signing tokens, so
    /// the next tokens are signed by a key the app has not seen yet.
    ///
    /// # Panics
    /// If the provider does not answer.
    pub async fn add_key(&self) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/keys", self.control))
            .send()
            .await
            .expect("the provider's control answers");
        let body: Value = res.json().await.expect("a JSON answer");
        body["kid"].as_str().expect("a kid").to_owned()
    }

    /// The app settings that enable Google sign-in against this provider.
    #[must_use]
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GOOGLE_CLIENT_ID", OAUTH_CLIENT_ID.to_owned()),
            ("GOOGLE_CLIENT_SECRET", OAUTH_CLIENT_SECRET.to_owned()),
            ("GOOGLE_ISSUER", self.issuer.clone()),
            ("OAUTH_REDIRECT_BASE", OAUTH_REDIRECT_BASE.to_owned()),
        ]
    }
}

/// Claims for one Google sign-in, sent to the provider as `claim_*` parameters.
#[must_use]
pub fn google_claims(sub: &str, email: &str, verified: bool) -> String {
    format!(
        "claim_sub={sub}&claim_email={}&claim_email_verified={verified}&claim_given_name=Grace&claim_family_name=Hopper",
        email.replace('@', "%40")
    )
}

/// A GitHub account as the fake reports it.
#[derive(Debug, Clone)]
pub struct GitHubAccount {
    /// `GET /user`'s numeric `id`.
    pub id: u64,
    /// The login.
    pub login: String,
    /// The display name.
    pub name: Option<String>,
    /// `GET /user/emails`: (address, primary, verified).
    pub emails: Vec<(String, bool, bool)>,
}

impl GitHubAccount {
    /// An account with one primary address, verified or not.
    #[must_use]
    pub fn new(id: u64, email: &str, verified: bool) -> Self {
        Self {
            id,
            login: format!("user{id}"),
            name: Some("Octo Cat".to_owned()),
            emails: vec![(email.to_owned(), true, verified)],
        }
    }
}

/// One authorization code the fake issued.
struct Grant {
    challenge: String,
    redirect_uri: String,
    account: GitHubAccount,
}

#[derive(Default)]
struct GitHubState {
    /// The account the next authorization signs in as.
    next: Option<GitHubAccount>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, GitHubAccount>,
}

type Shared = Arc<Mutex<GitHubState>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, GitHubState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// GitHub's OAuth app endpoints and REST API on a local wiremock server, for
/// `GITHUB_OAUTH_URL` and `GITHUB_API_URL`, following GitHub's documentation:
/// - `GET /login/oauth/authorize` (client id, redirect URI, state, `code_challenge` with
///   `code_challenge_method=S256`) redirects to the redirect URI with `code` and `state`;
/// - `POST /login/oauth/access_token` (form: client id and secret, code, redirect URI,
///   `code_verifier`) answers `{access_token, token_type, scope}`, or, like GitHub, a 200
///   with `{"error": "bad_verification_code", ...}` for an unknown, used or mismatched code;
/// - `GET /user` and `GET /user/emails` with `Authorization: Bearer <token>`.
pub struct GitHubFake {
    server: wiremock::MockServer,
    state: Shared,
}

impl GitHubFake {
    /// Starts the fake.
    pub async fn start() -> Self {
        use wiremock::matchers::{method, path};
        let server = wiremock::MockServer::start().await;
        let state = Shared::default();
        wiremock::Mock::given(method("GET"))
            .and(path("/login/oauth/authorize"))
            .respond_with(Authorize(state.clone()))
            .mount(&server)
            .await;
        wiremock::Mock::given(method("POST"))
            .and(path("/login/oauth/access_token"))
            .respond_with(AccessToken(state.clone()))
            .mount(&server)
            .await;
        wiremock::Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(Api(state.clone(), false))
            .mount(&server)
            .await;
        wiremock::Mock::given(method("GET"))
            .and(path("/user/emails"))
            .respond_with(Api(state.clone(), true))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// The account the next authorization signs in as.
    pub fn sign_in_as(&self, account: GitHubAccount) {
        lock(&self.state).next = Some(account);
    }

    /// The app settings that enable GitHub sign-in against this fake.
    #[must_use]
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_CLIENT_ID", OAUTH_CLIENT_ID.to_owned()),
            ("GITHUB_CLIENT_SECRET", OAUTH_CLIENT_SECRET.to_owned()),
            ("GITHUB_OAUTH_URL", self.server.uri()),
            ("GITHUB_API_URL", self.server.uri()),
            ("OAUTH_REDIRECT_BASE", OAUTH_REDIRECT_BASE.to_owned()),
        ]
    }
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding.
fn s256(verifier: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let digest = Sha256::digest(verifier.as_bytes());
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 63;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

fn pairs(query: &str) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

struct Authorize(Shared);

impl Respond for Authorize {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let ok = q.get("client_id").map(String::as_str) == Some(OAUTH_CLIENT_ID)
            && q.get("code_challenge_method").map(String::as_str) == Some("S256")
            && q.contains_key("code_challenge")
            && q.contains_key("state")
            && q.contains_key("redirect_uri");
        let mut state = lock(&self.0);
        let Some(account) = state.next.clone().filter(|_| ok) else {
            return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request"}));
        };
        let code = Uuid::new_v4().simple().to_string();
        let redirect_uri = q["redirect_uri"].clone();
        state.codes.insert(
            code.clone(),
            Grant {
                challenge: q["code_challenge"].clone(),
                redirect_uri: redirect_uri.clone(),
                account,
            },
        );
        let mut location = reqwest::Url::parse(&redirect_uri).expect("an absolute redirect URI");
        location
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &q["state"]);
        ResponseTemplate::new(302).insert_header("Location", location.as_str())
    }
}

struct AccessToken(Shared);

impl Respond for AccessToken {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = pairs(&String::from_utf8_lossy(&request.body));
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
        // GitHub answers a bad code with 200 and an error body.
        let refused = |error: &str| {
            ResponseTemplate::new(200).set_body_json(json!({
                "error": error,
                "error_description": "The code passed is incorrect or expired.",
                "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
            }))
        };
        if field("client_id") != OAUTH_CLIENT_ID || field("client_secret") != OAUTH_CLIENT_SECRET {
            return refused("incorrect_client_credentials");
        }
        let mut state = lock(&self.0);
        // A code works once, whatever happens next.
        let Some(grant) = state.codes.remove(field("code")) else {
            return refused("bad_verification_code");
        };
        if grant.redirect_uri != field("redirect_uri") {
            return refused("redirect_uri_mismatch");
        }
        if s256(field("code_verifier")) != grant.challenge {
            return refused("bad_verification_code");
        }
        let token = format!("gho_{}", Uuid::new_v4().simple());
        state.tokens.insert(token.clone(), grant.account);
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token,
            "token_type": "bearer",
            "scope": "read:user,user:email",
        }))
    }
}

struct Api(Shared, bool);

impl Respond for Api {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let token = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .unwrap_or_default();
        let state = lock(&self.0);
        let Some(account) = state.tokens.get(token) else {
            return ResponseTemplate::new(401).set_body_json(json!({
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
            }));
        };
        if self.1 {
            let emails: Vec<Value> = account
                .emails
                .iter()
                .map(|(email, primary, verified)| {
                    json!({"email": email, "primary": primary, "verified": verified, "visibility": "private"})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(emails)
        } else {
            ResponseTemplate::new(200).set_body_json(json!({
                "id": account.id,
                "login": account.login,
                "name": account.name,
                "email": null,
            }))
        }
    }
}

/// What `GET /auth/oauth/{provider}/start` gave the browser.
#[derive(Debug, Clone)]
pub struct OAuthStart {
    /// The provider's authorize URL.
    pub location: String,
    /// The binding cookie, as `name=value` for a `Cookie` header.
    pub cookie: String,
}

/// The provider's answer to the browser: where it sends it back.
#[derive(Debug, Clone)]
pub struct ProviderRedirect {
    /// The authorization code.
    pub code: String,
    /// The state.
    pub state: String,
}

impl TestApp {
    /// Starts signing in with `provider` (`google` or `github`), expecting 302.
    ///
    /// # Panics
    /// If the start is not a 302 with a binding cookie.
    pub async fn oauth_start(&self, provider: &str, query: &str, token: impl Bearer) -> OAuthStart {
        let res = self
            .get(
                &format!("/api/v1/auth/oauth/{provider}/start{query}"),
                token,
            )
            .await;
        assert_eq!(res.status(), 302, "the start redirects to the provider");
        let location = header(&res, "location").expect("a Location");
        let cookie = header(&res, "set-cookie").expect("a binding cookie");
        OAuthStart {
            location,
            cookie: cookie.split(';').next().expect("a name=value").to_owned(),
        }
    }

    /// Calls the callback with `code`, `state` and the `cookie` the browser holds.
    pub async fn oauth_callback(
        &self,
        provider: &str,
        redirect: &ProviderRedirect,
        cookie: Option<&str>,
    ) -> Response {
        let mut url =
            reqwest::Url::parse(&self.url(&format!("/api/v1/auth/oauth/{provider}/callback")))
                .expect("a URL");
        url.query_pairs_mut()
            .append_pair("code", &redirect.code)
            .append_pair("state", &redirect.state);
        let mut req = self.client.get(url);
        if let Some(cookie) = cookie {
            req = req.header("Cookie", cookie);
        }
        req.send().await.expect("the callback answers")
    }

    /// The whole browser round trip: start, the provider's authorize (with `extra` query
    /// parameters, e.g. claims for the local OpenID provider), and the callback.
    pub async fn oauth_sign_in(&self, provider: &str, extra: &str) -> Response {
        let start = self.oauth_start(provider, "", NO_TOKEN).await;
        let redirect = authorize(&self.client, &start.location, extra).await;
        self.oauth_callback(provider, &redirect, Some(&start.cookie))
            .await
    }
}

/// Plays the browser at the provider: GETs its authorize URL (plus `extra` parameters) and
/// reads the `code` and `state` of the redirect back.
///
/// # Panics
/// If the provider does not redirect back with a code.
pub async fn authorize(client: &reqwest::Client, location: &str, extra: &str) -> ProviderRedirect {
    let url = if extra.is_empty() {
        location.to_owned()
    } else {
        format!("{location}&{extra}")
    };
    let res = client.get(url).send().await.expect("the provider answers");
    assert_eq!(res.status(), 302, "the provider redirects back");
    let back = header(&res, "location").expect("a Location back");
    let back = reqwest::Url::parse(&back).expect("an absolute URL back");
    let q: HashMap<String, String> = back.query_pairs().into_owned().collect();
    ProviderRedirect {
        code: q.get("code").expect("a code").clone(),
        state: q.get("state").expect("a state").clone(),
    }
}
