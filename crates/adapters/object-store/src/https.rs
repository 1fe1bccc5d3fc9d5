//! The HTTP client under object_store: hyper with rustls on the ring provider.
//!
//! object_store's built-in client is reqwest 0.13, whose only TLS choices are rustls with
//! aws-lc-rs, native-tls (OpenSSL), or rustls with no provider at all (every reqwest client in
//! the process then panics unless someone installed a global provider first). This connector
//! keeps ring, which the rest of the workspace already uses, and touches no global state.

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::TokioExecutor;
use object_store::ClientOptions;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpRequestBody,
    HttpResponse, HttpResponseBody, HttpService,
};

/// How long a TCP (and proxy-less) connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long we wait for a response's status and headers; the body may stream for longer
/// (large downloads), and object_store retries idempotent requests that time out.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds [`RingHttpsService`]s for object_store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RingHttpsConnector {
    /// Whether plain `http://` endpoints are allowed (local S3 servers); otherwise HTTPS only.
    pub(crate) allow_http: bool,
}

impl HttpConnector for RingHttpsConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            // The platform verifier trusts the system's roots, as object_store's own client does,
            // so private CAs installed on the host work too.
            .with_provider_and_platform_verifier(provider)
            .map_err(|source| object_store::Error::Generic {
                store: "S3",
                source: Box::new(source),
            })?;
        let tls = if self.allow_http {
            tls.https_or_http()
        } else {
            tls.https_only()
        };
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = tls.enable_http1().enable_http2().wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(HttpClient::new(RingHttpsService { client }))
    }
}

/// One pooled hyper client.
#[derive(Debug)]
struct RingHttpsService {
    client: Client<HttpsConnector<TcpConnector>, HttpRequestBody>,
}

#[async_trait]
impl HttpService for RingHttpsService {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let response = tokio::time::timeout(RESPONSE_TIMEOUT, self.client.request(request))
            .await
            .map_err(|elapsed| HttpError::new(HttpErrorKind::Timeout, elapsed))?
            .map_err(|e| {
                let kind = classify(&e);
                HttpError::new(kind, e)
            })?;
        Ok(response.map(|body| {
            HttpResponseBody::new(body.map_err(|e| {
                // A body cut off mid-stream: object_store retries idempotent reads.
                HttpError::new(HttpErrorKind::Interrupted, e)
            }))
        }))
    }
}

/// Sorts a client failure into the kinds object_store's retry logic understands.
fn classify(error: &hyper_util::client::legacy::Error) -> HttpErrorKind {
    if error.is_connect() {
        return HttpErrorKind::Connect;
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::TimedOut => HttpErrorKind::Timeout,
                io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof => HttpErrorKind::Interrupted,
                _ => HttpErrorKind::Unknown,
            };
        }
        source = cause.source();
    }
    // Unknown is not retried. The pool already retries requests that lost a race with a
    // keep-alive connection closing, the common benign case.
    HttpErrorKind::Unknown
}
