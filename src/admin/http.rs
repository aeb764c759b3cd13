//! A small HTTP/1.1 responder on tokio for the AdminServer (`/commands/...`) and the
//! Prometheus endpoint (`/metrics`). Both only need `GET` with a short answer and
//! `Connection: close`, so a hand-written reader (bounded head size and time) is simpler
//! and lighter than pulling in a web framework. Answers come from the core through
//! `Event::Admin`; nothing here touches server state.

use super::{Ask, Query};
use crate::config::Config;
use crate::processor::Event;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Which endpoint a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    Admin,
    Metrics,
}

/// Starts the AdminServer and the metrics endpoint as the config asks. A bind failure is
/// logged and the server keeps running without that endpoint, as ZooKeeper does.
pub async fn spawn(cfg: &Arc<Config>, core: &mpsc::Sender<Event>) {
    if cfg.admin_enable_server {
        let addr = SocketAddr::new(cfg.admin_server_address, cfg.admin_server_port);
        start(addr, Site::Admin, core.clone()).await;
    }
    if let Some(port) = cfg.metrics_port {
        let host = cfg
            .properties
            .get("metricsProvider.httpHost")
            .and_then(|h| h.parse::<IpAddr>().ok())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        start(SocketAddr::new(host, port), Site::Metrics, core.clone()).await;
    }
}

async fn start(addr: SocketAddr, site: Site, core: mpsc::Sender<Event>) {
    match TcpListener::bind(addr).await {
        Ok(l) => {
            info!(%addr, ?site, "HTTP endpoint started");
            tokio::spawn(accept_loop(l, site, core));
        }
        Err(e) => warn!(%addr, ?site, "cannot start HTTP endpoint: {e}"),
    }
}

async fn accept_loop(l: TcpListener, site: Site, core: mpsc::Sender<Event>) {
    loop {
        match l.accept().await {
            Ok((sock, _)) => {
                tokio::spawn(handle(sock, site, core.clone()));
            }
            Err(e) => {
                warn!("admin accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// A response: status, content type (if any), body.
struct Resp(u16, Option<&'static str>, String);

async fn handle(mut sock: TcpStream, site: Site, core: mpsc::Sender<Event>) {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut sock)).await {
        Ok(Some(h)) => h,
        _ => return,
    };
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let resp = if method != "GET" && method != "HEAD" {
        Resp(405, Some("text/plain"), "Method Not Allowed\n".into())
    } else {
        route(site, target, &core).await
    };
    let reason = match resp.0 {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\nConnection: close\r\n", resp.0);
    if let Some(ct) = resp.1 {
        out.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", resp.2.len()));
    if method != "HEAD" {
        out.push_str(&resp.2);
    }
    let _ = sock.write_all(out.as_bytes()).await;
    let _ = sock.shutdown().await;
}

/// Reads up to the blank line ending the request head; `None` on EOF, error or overflow.
async fn read_head(sock: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            return Some(String::from_utf8_lossy(&buf).into_owned());
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

async fn route(site: Site, target: &str, core: &mpsc::Sender<Event>) -> Resp {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(path);
    match site {
        Site::Metrics if path == "/metrics" => match ask(core, Ask::Prometheus).await {
            Some(t) => Resp(200, Some("text/plain; version=0.0.4; charset=utf-8"), t),
            None => unavailable(),
        },
        Site::Admin if path == "/commands" || path == "/commands/" => {
            Resp(200, None, super::commands::listing())
        }
        Site::Admin if path.starts_with("/commands/") => {
            let name = path["/commands/".len()..].trim_end_matches('/').to_owned();
            let params = query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect();
            match ask(core, Ask::Command { name, params }).await {
                Some(t) => Resp(200, Some("application/json"), t),
                None => unavailable(),
            }
        }
        _ => Resp(404, Some("text/html;charset=iso-8859-1"), not_found(&path)),
    }
}

fn unavailable() -> Resp {
    Resp(
        503,
        Some("text/plain"),
        "This ZooKeeper instance is not currently serving requests\n".into(),
    )
}

fn not_found(path: &str) -> String {
    let esc = path
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<html>\n<head>\n<title>Error 404 Not Found</title>\n</head>\n<body><h2>HTTP ERROR 404 Not Found</h2>\n<table>\n<tr><th>URI:</th><td>{esc}</td></tr>\n<tr><th>STATUS:</th><td>404</td></tr>\n<tr><th>MESSAGE:</th><td>Not Found</td></tr>\n</table>\n</body>\n</html>\n"
    )
}

/// Sends a query to the core and waits for its answer (`None` if the core is gone).
async fn ask(core: &mpsc::Sender<Event>, ask: Ask) -> Option<String> {
    let (tx, rx) = oneshot::channel();
    let q = Query {
        ask,
        peer: None,
        reply: tx,
    };
    core.send(Event::Admin(q)).await.ok()?;
    rx.await.ok()
}

/// `%XX` and `+` decoding of a URL component (invalid escapes are kept as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("a%2Fb+c"), "a/b c");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%"), "%");
    }
}
