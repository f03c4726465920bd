//! The dashboard's HTTP side: hyper's HTTP/1 server on a one-thread tokio runtime, so
//! that each connection is served on its own (a client that stops reading, or sends half
//! a request and waits, holds up nobody else), with every limit a hostile or broken client
//! could otherwise push on: the request head's size, the time to send it, a response that
//! is not being read, the number of connections. Bodies are never read (the dashboard only
//! answers GET and HEAD): a request that announces one beyond a few KiB is refused as it
//! stands. Answers that read the store run on tokio's blocking threads, one at a time
//! (the store and the studies' replicas sit behind a mutex), so the event loop keeps
//! accepting and answering the requests that need no store while a read is slow.

use super::routes::{Query, Reply, Route, Routes, TEXT};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderMap, HeaderValue, CACHE_CONTROL, CONNECTION, CONTENT_TYPE, HOST, LOCATION,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;

/// The request line and headers together: a browser sends 1-2 KiB. Past it: 431.
const MAX_HEAD: usize = 32 * 1024;
/// Header lines in one request (a browser sends about 15).
const MAX_HEADERS: usize = 64;
/// A connection's read buffer (hyper's minimum is 8 KiB; it must hold a whole head).
const MAX_BUFFER: usize = 64 * 1024;
/// A request body announced beyond this is refused (413) without reading a byte of it.
const MAX_BODY: u64 = 4 * 1024;
/// From a connection's opening, or the end of its last answer, to a complete request
/// head: a slow or silent client, and an idle keep-alive connection, is closed after it.
/// The live page asks every half second, so its connection never idles this long.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// A response that makes no progress this long (the client stopped reading) ends its
/// connection. A browser reads as fast as the network allows, so only a stalled or
/// hostile client waits this long.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait to be accepted. Well under the usual limit of
/// 1024 open files, so that accepting never fails for lack of them.
const MAX_CONNECTIONS: usize = 256;
/// Threads for answers that read the store: they take the store's lock one at a time, so
/// more would only wait.
pub const BLOCKING_THREADS: usize = 2;

/// What every connection shares.
pub struct App {
    routes: Mutex<Routes>,
    /// The study `/` opens; without one, `/` lists the store's studies.
    default: Option<String>,
    /// The address the dashboard listens on: on a loopback address, only requests naming
    /// a loopback host are answered (see [`App::foreign_host`]).
    bind: IpAddr,
}

impl App {
    pub fn new(routes: Routes, default: Option<String>, bind: IpAddr) -> Self {
        Self {
            routes: Mutex::new(routes),
            default,
            bind,
        }
    }

    /// Why a request's Host is refused, if it is. A page on any web site can make the
    /// browser send requests to 127.0.0.1 under the site's own name (DNS rebinding: the
    /// name first resolves to the site, then to 127.0.0.1), and then read the answers as
    /// the site's; the Host header still carries that name, so a dashboard that only this
    /// machine should reach answers only to loopback names. Any port is accepted (an SSH
    /// tunnel or a proxy may map the dashboard to another one). Bound to another address,
    /// the dashboard is meant to be reached by whatever name the network gives it.
    fn foreign_host(&self, headers: &HeaderMap) -> Option<String> {
        if !self.bind.is_loopback() {
            return None;
        }
        let Some(host) = headers.get(HOST) else {
            return Some("the request has no Host header".to_string());
        };
        let host = String::from_utf8_lossy(host.as_bytes());
        let name = match host.strip_prefix('[') {
            // [v6]:port
            Some(rest) => rest.split_once(']').and_then(|(ip, port)| {
                (port.is_empty() || is_port(port.strip_prefix(':')?)).then_some(ip)
            }),
            None => match host.split_once(':') {
                Some((name, port)) => is_port(port).then_some(name),
                None => Some(&*host),
            },
        };
        let loopback = name.is_some_and(|name| {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback() && (ip == self.bind || is_usual(ip)))
        });
        (!loopback).then(|| format!("Host {host:?} is not this machine's loopback"))
    }

    /// The answer to one request. Never reads the request's body.
    async fn answer(self: Arc<Self>, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if let Some(why) = self.foreign_host(request.headers()) {
            return reply(
                421,
                TEXT,
                format!(
                    "{why}: a dashboard listening on {} answers to 127.0.0.1, localhost and \
                     [::1] only (--bind another address to serve other names)\n",
                    self.bind
                ),
            );
        }
        if let Some(why) = unwanted_body(request.headers()) {
            let mut response = reply(413, TEXT, format!("{why}\n"));
            // The body stays unread: the connection cannot carry another request.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return reply(405, TEXT, "the dashboard only reads\n".to_string());
        }
        let uri = request.uri();
        let route = Route::of(uri.path(), uri.query(), self.default.as_deref());
        drop(request);
        let (status, kind, body) = match route {
            Route::Redirect(to) => {
                let mut response = reply(302, TEXT, String::new());
                if let Ok(to) = HeaderValue::try_from(to) {
                    response.headers_mut().insert(LOCATION, to);
                }
                return response;
            }
            Route::NotFound(path) => (404, TEXT, format!("no page {path}\n")),
            Route::Store(query) => {
                let app = Arc::clone(&self);
                tokio::task::spawn_blocking(move || app.read_store(&query))
                    .await
                    .unwrap_or_else(|_| {
                        let why = "the dashboard failed on this request (see its output)\n";
                        (500, TEXT, why.to_string())
                    })
            }
        };
        reply(status, kind, body)
    }

    /// Answers a query that reads the store: blocking, on one of tokio's blocking threads.
    fn read_store(&self, query: &Query) -> Reply {
        let mut routes = match self.routes.lock() {
            Ok(routes) => routes,
            Err(poisoned) => {
                // An earlier answer panicked while holding the store: go on, without the
                // studies it may have left half read.
                let mut routes = poisoned.into_inner();
                routes.forget_studies();
                self.routes.clear_poison();
                routes
            }
        };
        routes.answer(query)
    }
}

/// Serves `listener` until the process ends.
pub async fn serve(listener: std::net::TcpListener, app: Arc<App>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_header_size(MAX_HEAD)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_BUFFER);
    loop {
        let slot = Arc::clone(&slots)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // A connection that was reset before it was accepted, or no file
                // descriptor left for a moment: try again shortly, never spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let io = TokioIo::new(Box::pin(stream));
        let app = Arc::clone(&app);
        let service = hyper::service::service_fn(move |request| {
            let app = Arc::clone(&app);
            async move { Ok::<_, Infallible>(app.answer(request).await) }
        });
        let connection = http.serve_connection(io, service);
        tokio::spawn(async move {
            // A client that went away, sent garbage or timed out is no error of ours.
            let _ = connection.await;
            drop(slot);
        });
    }
}

/// The reason to refuse a request's body, if it has one worth refusing.
fn unwanted_body(headers: &HeaderMap) -> Option<String> {
    if headers.contains_key(hyper::header::TRANSFER_ENCODING) {
        return Some("a request body is not read here (Transfer-Encoding)".to_string());
    }
    let length = headers.get(hyper::header::CONTENT_LENGTH)?;
    // hyper has already refused a Content-Length that is not a number.
    let length: u64 = length.to_str().ok()?.trim().parse().ok()?;
    (length > MAX_BODY)
        .then(|| format!("a request body of {length} bytes is not read here (at most {MAX_BODY})"))
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit())
}

/// 127.0.0.1 or ::1, the names a browser uses for this machine.
fn is_usual(ip: IpAddr) -> bool {
    ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
}

fn reply(status: u16, kind: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
