//! GitHub sign-in (OAuth app): authorization-code exchange with PKCE, then `GET /user` for
//! the account id and `GET /user/emails` for the primary verified address.

use async_trait::async_trait;
use nexus_identity::{
    AuthorizeRequest, IdentityProvider, OAuthError, OAuthProvider, ProviderProfile,
};
use nexus_kernel::Email;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;

use crate::{ClientRegistration, InvalidProviderConfig, http};

/// The REST API version the calls are written against.
const API_VERSION: &str = "2022-11-28";

/// GitHub's settings.
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// The client registration (an OAuth app).
    pub client: ClientRegistration,
    /// Where the OAuth endpoints live (`https://github.com`).
    pub oauth_url: String,
    /// Where the REST API lives (`https://api.github.com`).
    pub api_url: String,
}

type GitHubClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// `GET /user`.
#[derive(Debug, Deserialize)]
struct GitHubUser {
    id: u64,
    login: String,
    name: Option<String>,
}

/// One entry of `GET /user/emails`.
#[derive(Debug, Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

/// Sign-in with GitHub.
pub struct GitHubProvider {
    config: GitHubConfig,
    http: reqwest::Client,
    client: GitHubClient,
}

impl GitHubProvider {
    /// Checks the configuration and builds the HTTP client.
    ///
    /// # Errors
    /// `InvalidProviderConfig` naming the unusable setting.
    pub fn new(config: GitHubConfig) -> Result<Self, InvalidProviderConfig> {
        let base = config.oauth_url.trim_end_matches('/');
        let auth = AuthUrl::new(format!("{base}/login/oauth/authorize"))
            .map_err(|_| InvalidProviderConfig::Url("GITHUB_OAUTH_URL"))?;
        let token = TokenUrl::new(format!("{base}/login/oauth/access_token"))
            .map_err(|_| InvalidProviderConfig::Url("GITHUB_OAUTH_URL"))?;
        let redirect = RedirectUrl::new(config.client.redirect_uri.clone())
            .map_err(|_| InvalidProviderConfig::Url("GITHUB_REDIRECT_URI"))?;
        reqwest::Url::parse(&config.api_url)
            .map_err(|_| InvalidProviderConfig::Url("GITHUB_API_URL"))?;
        let client = BasicClient::new(ClientId::new(config.client.client_id.clone()))
            .set_client_secret(ClientSecret::new(config.client.client_secret.clone()))
            // GitHub reads the client credentials from the form body.
            .set_auth_type(oauth2::AuthType::RequestBody)
            .set_auth_uri(auth)
            .set_token_uri(token)
            .set_redirect_uri(redirect);
        Ok(Self {
            http: http::client(config.client.timeout)?,
            config,
            client,
        })
    }

    async fn api<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
    ) -> Result<T, OAuthError> {
        let url = format!("{}{path}", self.config.api_url.trim_end_matches('/'));
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, path, "GitHub's API cannot be reached");
                OAuthError::ProviderUnavailable
            })?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), path, "GitHub's API answered an error");
            return Err(OAuthError::ProviderUnavailable);
        }
        response.json().await.map_err(|e| {
            tracing::warn!(error = %e, path, "GitHub's answer is unusable");
            OAuthError::ProviderUnavailable
        })
    }
}

/// The primary address, if GitHub says it is verified; else none.
fn primary_verified(emails: &[GitHubEmail]) -> Option<Email> {
    emails
        .iter()
        .find(|e| e.primary && e.verified)
        .and_then(|e| Email::parse(&e.email).ok())
}

/// Splits GitHub's single display name in two, the login standing in for a missing one.
fn names(user: &GitHubUser) -> (Option<String>, Option<String>) {
    let full = user
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&user.login);
    match full.split_once(' ') {
        Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
        None => (Some(full.to_owned()), None),
    }
}

#[async_trait]
impl OAuthProvider for GitHubProvider {
    fn provider(&self) -> IdentityProvider {
        IdentityProvider::GitHub
    }

    async fn authorize_url(&self, request: &AuthorizeRequest) -> Result<String, OAuthError> {
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            request.pkce_verifier.clone(),
        ));
        let state = request.state.clone();
        let (url, _) = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new("read:user".to_owned()))
            .add_scope(Scope::new("user:email".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        _nonce: &str,
    ) -> Result<ProviderProfile, OAuthError> {
        let send = http::OAuthHttp(&self.http);
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&send)
            .await
            .map_err(|e| http::exchange_error(&e))?;
        let access = token.access_token().secret();
        let user: GitHubUser = self.api("/user", access).await?;
        let emails: Vec<GitHubEmail> = self.api("/user/emails", access).await?;
        let email = primary_verified(&emails);
        let (first_name, last_name) = names(&user);
        Ok(ProviderProfile {
            subject: user.id.to_string(),
            email_verified: email.is_some(),
            email,
            first_name,
            last_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(email: &str, primary: bool, verified: bool) -> GitHubEmail {
        GitHubEmail {
            email: email.to_owned(),
            primary,
            verified,
        }
    }

    #[test]
    fn only_a_primary_verified_address_counts() {
        let cases = [
            (
                vec![entry("a@example.com", true, true)],
                Some("a@example.com"),
            ),
            (vec![entry("a@example.com", true, false)], None),
            (
                vec![
                    entry("a@example.com", false, true),
                    entry("b@example.com", true, false),
                ],
                None,
            ),
            (vec![], None),
        ];
        for (emails, expected) in cases {
            assert_eq!(
                primary_verified(&emails).as_ref().map(Email::as_str),
                expected
            );
        }
    }

    #[test]
    fn a_missing_display_name_falls_back_to_the_login() {
        let user = GitHubUser {
            id: 1,
            login: "octocat".to_owned(),
            name: None,
        };
        assert_eq!(names(&user), (Some("octocat".to_owned()), None));
        let named = GitHubUser {
            name: Some("Mona Lisa Octocat".to_owned()),
            ..user
        };
        assert_eq!(
            names(&named),
            (Some("Mona".to_owned()), Some("Lisa Octocat".to_owned()))
        );
    }
}
