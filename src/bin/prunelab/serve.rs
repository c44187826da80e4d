//! `prunelab serve`: the page's static files over HTTP/1.1, on hyper, axum and tower-http.
//!
//! tower-http's `ServeFile` does the HTTP of a file (its type, HEAD, ranges, If-Modified-Since);
//! hyper bounds what one client may cost (the time to send its request head, the size of it).
//! This module only decides which file a path names, inside the root and nowhere else (no `..`,
//! encoded or not, and no symlink that leads out), and adds the page's headers to every
//! response: the Content-Security-Policy (so the worker is covered too), nosniff, no-cache, and
//! cross-origin isolation (COOP and COEP), which lets the page share memory between threads and
//! so run the threaded CPU bundle.
//! `.gz` files go out as plain bytes (no Content-Encoding): the worker un-gzips them itself.

use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;
use tower_http::services::ServeFile;
use tower_http::set_header::SetResponseHeaderLayer;

/// The same policy as the page's meta tag: nothing from another origin.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'";

/// Cross-origin isolation: the page and its workers may then use SharedArrayBuffer (the threaded
/// bundle). Everything the page loads is its own origin's, which `require-corp` always allows.
pub const ISOLATION: [(&str, &str); 2] = [("cross-origin-opener-policy", "same-origin"), ("cross-origin-embedder-policy", "require-corp")];

/// The most a request head (request line and headers) may take; more gets 431. Browsers send
/// under 2 kB; 16 kB leaves room for long cookies of other apps on localhost.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Where and what to serve.
pub struct Options {
    pub root: PathBuf,
    pub host: IpAddr,
    /// 0 picks a free port (printed at start).
    pub port: u16,
    /// How long a client may take to send its request head; a slower one is disconnected.
    pub timeout: Duration,
}

/// Serves until the process ends.
pub fn serve(o: Options) -> std::io::Result<()> {
    let root = o.root.canonicalize()?;
    if !root.is_dir() {
        return Err(std::io::Error::other(format!("{} is not a folder", root.display())));
    }
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?.block_on(run(root, o))
}

async fn run(root: PathBuf, o: Options) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(o.host, o.port)).await?;
    let at = listener.local_addr()?;
    println!("Prune Lab: serving {} on http://{at}/ (Ctrl-C stops)", root.display());
    if !o.host.is_loopback() {
        eprintln!(
            "warning: listening on {host}: any device that can reach this machine on port {port} (everyone on this network, \
             and beyond it if a firewall or router lets them) can read every file under {root}. It serves files and nothing else: \
             nothing can be uploaded or changed. Use --host 127.0.0.1 to keep the lab to this machine.",
            host = o.host,
            port = at.port(),
            root = root.display()
        );
    }
    let [(coop, coop_value), (coep, coep_value)] = ISOLATION;
    let app = Router::new()
        .fallback(file)
        .with_state(Arc::new(root))
        .layer(SetResponseHeaderLayer::overriding(HeaderName::from_static(coop), HeaderValue::from_static(coop_value)))
        .layer(SetResponseHeaderLayer::overriding(HeaderName::from_static(coep), HeaderValue::from_static(coep_value)))
        .layer(SetResponseHeaderLayer::overriding(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(o.timeout).max_buf_size(MAX_HEAD_BYTES);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait, rather than spin or stop serving.
                eprintln!("prunelab serve: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        tokio::spawn(async move {
            let _ = connection.await; // a client that left or was too slow: nothing to report
        });
    }
}

/// Answers one request: the file its path names, a redirect for a folder without its `/`, or 404.
async fn file(State(root): State<Arc<PathBuf>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    match resolve(&root, &path) {
        Some(Target::File(file)) => match ServeFile::new(file).oneshot(request).await {
            Ok(response) => response.into_response(),
            Err(never) => match never {},
        },
        // One leading `/`: `//host/x` would be a redirect to another site.
        Some(Target::Folder) => (StatusCode::MOVED_PERMANENTLY, [(LOCATION, format!("/{}/", path.trim_start_matches('/')))]).into_response(),
        None => (StatusCode::NOT_FOUND, format!("not found: {path}\n")).into_response(),
    }
}

#[derive(Debug, PartialEq)]
enum Target {
    File(PathBuf),
    /// A folder named without its trailing `/`: relative links in its index.html need one.
    Folder,
}

/// What a request path (percent-encoded, as sent) names under `root` (canonical), or `None`
/// for anything missing or outside it: `..` in any spelling, and symlinks that lead out.
fn resolve(root: &Path, path: &str) -> Option<Target> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
    let mut joined = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => joined.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    let inside = |p: &Path| p.canonicalize().ok().filter(|real| real.starts_with(root));
    let real = inside(&joined)?;
    if real.is_dir() {
        if !path.ends_with('/') {
            return Some(Target::Folder);
        }
        return inside(&real.join("index.html")).filter(|f| f.is_file()).map(Target::File);
    }
    real.is_file().then_some(Target::File(real))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let base = std::env::temp_dir().join(format!("prunelab-serve-{}", std::process::id()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("sub/a b.js"), "x").unwrap();
        std::fs::write(base.join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(base.join("secret"), root.join("link")).unwrap();
        let root = root.canonicalize().unwrap();
        let file = |p: &str| Some(Target::File(root.join(p)));
        assert_eq!(resolve(&root, "/"), file("index.html"));
        assert_eq!(resolve(&root, "/sub/a%20b.js"), file("sub/a b.js"));
        assert_eq!(resolve(&root, "/sub"), Some(Target::Folder));
        assert_eq!(resolve(&root, "/sub/"), None, "a folder without index.html");
        for escape in ["/../secret", "/sub/../../secret", "/%2e%2e/secret", "/..%2fsecret", "/%2E%2E%2Fsecret", "/link", "/missing", "/%ff"] {
            assert_eq!(resolve(&root, escape), None, "{escape}");
        }
        std::fs::remove_dir_all(base).unwrap();
    }
}
