//! Google sign-in (OpenID Connect): discovery, authorization-code exchange with PKCE, and
//! the ID token verified against the provider's published keys.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use nexus_identity::{
    AuthorizeRequest, IdentityProvider, OAuthError, OAuthProvider, ProviderProfile,
};
use nexus_kernel::Email;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

use crate::{ClientRegistration, InvalidProviderConfig, http};

/// How soon after a key-set fetch that still lacked a token's key another one may be made:
/// a token naming an unknown key refetches the set (the provider rotated its keys), but a
/// flood of such tokens does not become a flood of fetches.
const MISS_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// Allowed clock difference with the provider, in seconds.
const LEEWAY_SECS: u64 = 60;

/// Google's settings.
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// The client registration.
    pub client: ClientRegistration,
    /// The issuer (`https://accounts.google.com`); discovery is read from
    /// `{issuer}/.well-known/openid-configuration` and the ID token's `iss` must equal it.
    pub issuer: String,
}

/// The parts of the discovery document used here.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// The keys last fetched and when a fetch last missed a key.
#[derive(Default)]
struct Keys {
    set: Option<JwkSet>,
    last_miss: Option<Instant>,
}

/// The ID token beside the standard token fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdTokenField {
    id_token: String,
}

impl ExtraTokenFields for IdTokenField {}

type GoogleClient = Client<
    BasicErrorResponse,
    StandardTokenResponse<IdTokenField, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The ID token's claims this service reads.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    given_name: Option<String>,
    family_name: Option<String>,
}

/// Sign-in with Google. Discovery and keys are fetched on first use and cached; the keys
/// are fetched again when a token names one the cache lacks (Google rotates them).
pub struct GoogleProvider {
    config: GoogleConfig,
    http: reqwest::Client,
    redirect: RedirectUrl,
    discovery: RwLock<Option<Discovery>>,
    keys: Mutex<Keys>,
}

impl GoogleProvider {
    /// Checks the configuration and builds the HTTP client.
    ///
    /// # Errors
    /// `InvalidProviderConfig` naming the unusable setting.
    pub fn new(config: GoogleConfig) -> Result<Self, InvalidProviderConfig> {
        let redirect = RedirectUrl::new(config.client.redirect_uri.clone())
            .map_err(|_| InvalidProviderConfig::Url("GOOGLE_REDIRECT_URI"))?;
        reqwest::Url::parse(&config.issuer)
            .map_err(|_| InvalidProviderConfig::Url("GOOGLE_ISSUER"))?;
        Ok(Self {
            http: http::client(config.client.timeout)?,
            config,
            redirect,
            discovery: RwLock::new(None),
            keys: Mutex::new(Keys::default()),
        })
    }

    async fn discovery(&self) -> Result<Discovery, OAuthError> {
        if let Some(found) = self.discovery.read().await.as_ref() {
            return Ok(found.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let found: Discovery = self.get_json(&url).await?;
        if found.issuer.trim_end_matches('/') != self.config.issuer.trim_end_matches('/') {
            tracing::warn!(issuer = %found.issuer, "the discovery document names another issuer");
            return Err(OAuthError::ProviderUnavailable);
        }
        *self.discovery.write().await = Some(found.clone());
        Ok(found)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OAuthError> {
        let response = self.http.get(url).send().await.map_err(|e| {
            tracing::warn!(error = %e, "the provider cannot be reached");
            OAuthError::ProviderUnavailable
        })?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "the provider answered an error");
            return Err(OAuthError::ProviderUnavailable);
        }
        response.json().await.map_err(|e| {
            tracing::warn!(error = %e, "the provider's answer is unusable");
            OAuthError::ProviderUnavailable
        })
    }

    fn client(&self, discovery: &Discovery) -> Result<GoogleClient, OAuthError> {
        let auth = AuthUrl::new(discovery.authorization_endpoint.clone())
            .map_err(|_| OAuthError::ProviderUnavailable)?;
        let token = TokenUrl::new(discovery.token_endpoint.clone())
            .map_err(|_| OAuthError::ProviderUnavailable)?;
        Ok(
            Client::new(ClientId::new(self.config.client.client_id.clone()))
                .set_client_secret(ClientSecret::new(self.config.client.client_secret.clone()))
                .set_auth_type(oauth2::AuthType::RequestBody)
                .set_auth_uri(auth)
                .set_token_uri(token)
                .set_redirect_uri(self.redirect.clone()),
        )
    }

    /// The decoding key for `kid`, fetching the key set again when the cached one lacks it.
    async fn key(&self, discovery: &Discovery, kid: &str) -> Result<DecodingKey, OAuthError> {
        let mut keys = self.keys.lock().await;
        if let Some(jwk) = keys.set.as_ref().and_then(|set| set.find(kid)) {
            return DecodingKey::from_jwk(jwk).map_err(|_| OAuthError::InvalidIdToken);
        }
        if keys
            .last_miss
            .is_some_and(|at| at.elapsed() < MISS_REFETCH_INTERVAL)
        {
            return Err(OAuthError::InvalidIdToken);
        }
        let set: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        tracing::info!(keys = set.keys.len(), "fetched the provider's signing keys");
        let found = set.find(kid).cloned();
        keys.set = Some(set);
        let Some(jwk) = found else {
            keys.last_miss = Some(Instant::now());
            tracing::warn!("an ID token names a key the provider does not publish");
            return Err(OAuthError::InvalidIdToken);
        };
        keys.last_miss = None;
        DecodingKey::from_jwk(&jwk).map_err(|_| OAuthError::InvalidIdToken)
    }

    /// Verifies signature, issuer, audience, expiry and nonce; answers the claims.
    async fn verify(
        &self,
        discovery: &Discovery,
        id_token: &str,
        nonce: &str,
    ) -> Result<Claims, OAuthError> {
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|_| OAuthError::InvalidIdToken)?;
        if header.alg != Algorithm::RS256 {
            return Err(OAuthError::InvalidIdToken);
        }
        let kid = header.kid.ok_or(OAuthError::InvalidIdToken)?;
        let key = self.key(discovery, &kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[self.config.issuer.as_str()]);
        validation.set_audience(&[self.config.client.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Claims>(id_token, &key, &validation)
            .map_err(|e| {
                tracing::info!(error = %e, "an ID token failed verification");
                OAuthError::InvalidIdToken
            })?
            .claims;
        if claims.nonce.as_deref() != Some(nonce) {
            tracing::info!("an ID token carries another nonce");
            return Err(OAuthError::InvalidIdToken);
        }
        Ok(claims)
    }
}

/// `email_verified` is a boolean, but some issuers have sent the string `"true"`.
fn is_true(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    }
}

#[async_trait]
impl OAuthProvider for GoogleProvider {
    fn provider(&self) -> IdentityProvider {
        IdentityProvider::Google
    }

    async fn authorize_url(&self, request: &AuthorizeRequest) -> Result<String, OAuthError> {
        let discovery = self.discovery().await?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            request.pkce_verifier.clone(),
        ));
        let state = request.state.clone();
        let (url, _) = self
            .client(&discovery)?
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new("openid".to_owned()))
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge)
            .add_extra_param("nonce", request.nonce.as_str())
            .url();
        Ok(url.to_string())
    }

    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ProviderProfile, OAuthError> {
        let discovery = self.discovery().await?;
        let client = self.client(&discovery)?;
        let send = http::OAuthHttp(&self.http);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&send)
            .await
            .map_err(|e| http::exchange_error(&e))?;
        let claims = self
            .verify(&discovery, &token.extra_fields().id_token, nonce)
            .await?;
        let email_verified = is_true(claims.email_verified.as_ref());
        Ok(ProviderProfile {
            subject: claims.sub,
            email: claims.email.as_deref().and_then(|e| Email::parse(e).ok()),
            email_verified,
            first_name: claims.given_name,
            last_name: claims.family_name,
        })
    }
}
