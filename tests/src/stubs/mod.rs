//! Local stand-ins for servers no test machine can reach, speaking their documented
//! protocols over real HTTP on loopback, recording every request, with faults on demand.

pub mod messenger;
pub mod openai;
pub mod orders;
pub mod telegram;
pub mod zalo;

use std::convert::Infallible;
use std::fmt::Debug;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A stub's HTTP server on a free loopback port; stops when dropped.
pub struct StubServer {
    /// Where it listens.
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StubServer {
    /// Serves every request with `handler` (HTTP/1.1, one task per connection).
    pub async fn start<H, F>(handler: H) -> Self
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind stub");
        let address = listener.local_addr().expect("stub address");
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handler = Arc::clone(&handler);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let answer = handler(request);
                        async move { Ok::<_, Infallible>(answer.await) }
                    });
                    // Errors are clients hanging up mid-answer: expected in timeout tests.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { address, task }
    }
}

/// A response with `status`, a JSON content type and `body`.
pub fn json_response(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Polls a stub's `requests` until `done` holds for them and returns them; panics with them
/// after `timeout`, naming the `stub`.
pub(crate) async fn wait_for_requests<R: Debug>(
    stub: &str,
    timeout: Duration,
    requests: impl Fn() -> Vec<R>,
    done: impl Fn(&[R]) -> bool,
) -> Vec<R> {
    let started = Instant::now();
    loop {
        let requests = requests();
        if done(&requests) {
            return requests;
        }
        assert!(
            started.elapsed() < timeout,
            "the {stub} stub did not get what was awaited within {timeout:?}; it got {requests:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
