//! Runs every request on the process's main Tokio runtime's I/O and timer drivers.
//!
//! actix serves each HTTP worker on its own single-threaded runtime, and a socket belongs to
//! the runtime that opened it. Pools (database, Redis, HTTP clients) hand a connection opened
//! during a request on one worker to a request on another. On a graceful stop actix ends idle
//! workers at once, and their runtimes take those sockets down with them, failing a request
//! still in flight on a busy worker. With this middleware outermost, whatever a request opens
//! (sockets, timers, spawned tasks) belongs to the main runtime, which lives until every
//! worker has drained; the request's own future still runs on its worker.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use futures_util::future::{Ready, ready};
use tokio::runtime::Handle;

/// The middleware; build it with the handle of the runtime that outlives the HTTP workers.
#[derive(Debug, Clone)]
pub struct OnRuntime(Handle);

impl OnRuntime {
    /// Requests enter `handle`'s runtime context while they are polled.
    #[must_use]
    pub fn new(handle: Handle) -> Self {
        Self(handle)
    }
}

impl<S, B> Transform<S, ServiceRequest> for OnRuntime
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = OnRuntimeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(OnRuntimeService {
            service,
            handle: self.0.clone(),
        }))
    }
}

/// The service [`OnRuntime`] wraps around the app.
#[derive(Debug)]
pub struct OnRuntimeService<S> {
    service: S,
    handle: Handle,
}

impl<S, B> Service<ServiceRequest> for OnRuntimeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Entered<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let inner = {
            let _entered = self.handle.enter();
            self.service.call(req)
        };
        Entered {
            handle: self.handle.clone(),
            inner: Box::pin(inner),
        }
    }
}

/// A future polled inside a runtime's context.
pub struct Entered<F> {
    handle: Handle,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Entered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let _entered = this.handle.enter();
        this.inner.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse, web};

    /// A multi-threaded "main" runtime and a listener on it.
    fn main_runtime_with_listener() -> (
        tokio::runtime::Runtime,
        tokio::net::TcpListener,
        std::net::SocketAddr,
    ) {
        let main = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("test setup");
        let listener = main
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("test setup");
        let addr = listener.local_addr().expect("test setup");
        (main, listener, addr)
    }

    /// A socket opened by a handler belongs to the main runtime, so it outlives the worker
    /// runtime that served the request.
    #[test]
    fn a_socket_opened_in_a_request_survives_the_worker_runtime() {
        let (main, listener, addr) = main_runtime_with_listener();
        let accepted = main.spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("test setup");
            let mut buf = [0u8; 4];
            tokio::io::AsyncReadExt::read_exact(&mut socket, &mut buf)
                .await
                .expect("test setup");
            buf
        });
        let kept: std::sync::Arc<std::sync::Mutex<Option<tokio::net::TcpStream>>> =
            std::sync::Arc::default();
        let worker = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test setup");
        let slot = kept.clone();
        worker.block_on(async {
            let app = actix_test::init_service(
                App::new()
                    .wrap(OnRuntime::new(main.handle().clone()))
                    .route(
                        "/",
                        web::get().to(move || {
                            let slot = slot.clone();
                            async move {
                                let stream = tokio::net::TcpStream::connect(addr)
                                    .await
                                    .expect("test setup");
                                *slot.lock().expect("test setup") = Some(stream);
                                HttpResponse::NoContent().finish()
                            }
                        }),
                    ),
            )
            .await;
            let res = actix_test::call_service(
                &app,
                actix_test::TestRequest::get().uri("/").to_request(),
            )
            .await;
            assert_eq!(res.status(), 204);
        });
        // The worker runtime ends, as an idle actix worker's does on a graceful stop.
        drop(worker);
        let mut stream = kept.lock().expect("test setup").take().expect("test setup");
        main.block_on(async move {
            tokio::io::AsyncWriteExt::write_all(&mut stream, b"ping")
                .await
                .expect("the socket still works after its worker runtime ended");
        });
        assert_eq!(&main.block_on(accepted).expect("test setup"), b"ping");
    }

    /// Without the middleware the same socket dies with the worker runtime: the test above
    /// would fail for the reason the middleware exists.
    #[test]
    fn without_it_a_socket_dies_with_its_worker_runtime() {
        let (main, listener, addr) = main_runtime_with_listener();
        let _accepted = main.spawn(async move { listener.accept().await });
        let worker = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test setup");
        let mut stream = worker
            .block_on(tokio::net::TcpStream::connect(addr))
            .expect("test setup");
        drop(worker);
        let written = main.block_on(async move {
            tokio::io::AsyncWriteExt::write_all(&mut stream, b"ping").await
        });
        assert!(
            written.is_err(),
            "a socket outlived its runtime: {written:?}"
        );
    }
}
