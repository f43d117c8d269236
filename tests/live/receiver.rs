//! A real HTTP server on loopback that stands in for a notification
//! endpoint: it records every request as an attempt, answers with the
//! status it is told to (with a `Retry-After` when asked), and can go down
//! for real (new connections refused) and come back up on the same port.
//!
//! Every answer carries `Connection: close`, so clients do not pool
//! connections; and a connection accepted before the receiver went down
//! fails on its next read, so nothing is served while it is down. A request
//! already read when it goes down is still answered.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CONNECTION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use serde_json::Value as Json;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One request a [`Receiver`] got, and what it answered.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: HeaderMap,
    /// The body as JSON, or as a JSON string when it is not JSON.
    pub body: Json,
    /// When the request arrived.
    pub at: Instant,
    /// The status the receiver answered.
    pub status: u16,
}

/// What the receiver answers: a status, and `Retry-After` seconds.
#[derive(Debug, Clone, Copy)]
struct Answer {
    status: StatusCode,
    retry_after_secs: Option<u64>,
}

/// What the server task and the test share.
struct Shared {
    attempts: Mutex<Vec<Delivery>>,
    answer: Mutex<Answer>,
}

/// The receiver: its address stays the same across [`Receiver::go_down`]
/// and [`Receiver::come_up`]. Clones share the server.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: Arc<Mutex<Option<Server>>>,
}

/// The serving task of one up period, and the flag that ends its
/// connections.
struct Server {
    task: JoinHandle<()>,
    down: Arc<AtomicBool>,
}

impl Receiver {
    /// Starts the receiver on a free port, answering 200.
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            addr: listener.local_addr().unwrap(),
            shared: Arc::new(Shared {
                attempts: Mutex::default(),
                answer: Mutex::new(Answer {
                    status: StatusCode::OK,
                    retry_after_secs: None,
                }),
            }),
            server: Arc::default(),
        };
        receiver.serve(listener);
        receiver
    }

    /// The URL notifications go to.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers every following request with `code`.
    pub fn set_status(&self, code: u16) {
        self.answer(code, None);
    }

    /// Answers every following request with `code` and `Retry-After: secs`.
    pub fn set_retry_after(&self, code: u16, secs: u64) {
        self.answer(code, Some(secs));
    }

    /// Answers every following request with 200 again.
    pub fn set_ok(&self) {
        self.answer(200, None);
    }

    /// Stops listening: new connections are refused until [`come_up`].
    ///
    /// [`come_up`]: Receiver::come_up
    pub async fn go_down(&self) {
        let server = self.server.lock().unwrap().take();
        let server = server.expect("the receiver is up");
        // Axum serves each connection in a task of its own, which aborting
        // the server leaves running: the flag ends them.
        server.down.store(true, Ordering::SeqCst);
        server.task.abort();
        // The listener closes only once the aborted task is dropped.
        let _ = server.task.await;
    }

    /// Listens again on the same port.
    pub async fn come_up(&self) {
        assert!(self.server.lock().unwrap().is_none(), "the receiver is up");
        let listener = rebind(self.addr).await;
        self.serve(listener);
    }

    /// Every request so far, whatever was answered.
    pub fn attempts(&self) -> Vec<Delivery> {
        self.shared.attempts.lock().unwrap().clone()
    }

    /// The requests so far that were answered 2xx.
    pub fn deliveries(&self) -> Vec<Delivery> {
        let mut got = self.attempts();
        got.retain(|d| (200..300).contains(&d.status));
        got
    }

    /// Waits until `n` deliveries (answered 2xx) have arrived, for up to 20 s.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        wait_until(n, "deliveries", || self.deliveries()).await
    }

    /// Waits until `n` requests have arrived, for up to 20 s.
    pub async fn wait_for_attempts(&self, n: usize) -> Vec<Delivery> {
        wait_until(n, "attempts", || self.attempts()).await
    }

    fn answer(&self, code: u16, retry_after_secs: Option<u64>) {
        let status = StatusCode::from_u16(code).expect("an HTTP status code");
        *self.shared.answer.lock().unwrap() = Answer {
            status,
            retry_after_secs,
        };
    }

    fn serve(&self, listener: TcpListener) {
        let app = Router::new()
            .route("/hook", post(record))
            .with_state(Arc::clone(&self.shared));
        let down = Arc::new(AtomicBool::new(false));
        let listener = Downable {
            listener,
            down: Arc::clone(&down),
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *self.server.lock().unwrap() = Some(Server { task, down });
    }
}

/// A listener whose connections fail once `down` is set.
struct Downable {
    listener: TcpListener,
    down: Arc<AtomicBool>,
}

impl axum::serve::Listener for Downable {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        let down = Arc::clone(&self.down);
        (Conn { io, down }, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// An accepted connection: reading from it fails once its server is down,
/// so a request that arrives after that gets no answer.
struct Conn {
    io: TcpStream,
    down: Arc<AtomicBool>,
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.down.load(Ordering::SeqCst) {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Binds `addr` again, retrying for up to 5 s: the port may linger for a
/// moment after the old listener closed (tokio sets SO_REUSEADDR, so
/// TIME_WAIT connections do not block it).
async fn rebind(addr: SocketAddr) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(e) if Instant::now() < deadline => {
                eprintln!("rebinding {addr}: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("cannot listen on {addr} again: {e}"),
        }
    }
}

/// Polls `got` until it holds `n` items, for up to 20 s.
async fn wait_until(n: usize, what: &str, got: impl Fn() -> Vec<Delivery>) -> Vec<Delivery> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = got();
        if now.len() >= n {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "got {now:?}, expected {n} {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    let at = Instant::now();
    let answer = *shared.answer.lock().unwrap();
    let body = serde_json::from_slice(&body)
        .unwrap_or(Json::String(String::from_utf8_lossy(&body).into()));
    shared.attempts.lock().unwrap().push(Delivery {
        headers,
        body,
        at,
        status: answer.status.as_u16(),
    });
    let mut reply = HeaderMap::new();
    reply.insert(CONNECTION, HeaderValue::from_static("close"));
    if let Some(secs) = answer.retry_after_secs {
        reply.insert(RETRY_AFTER, secs.into());
    }
    (answer.status, reply)
}
