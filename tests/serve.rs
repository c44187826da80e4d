//! `prunelab serve` against clients that misbehave: paths out of the root (plain, encoded, by
//! symlink), an over-long header, a client too slow to finish its request; and what a browser
//! relies on (types, the CSP on every response, ranges, conditional requests). Raw sockets, so
//! that nothing normalises the requests on the way.

#![cfg(not(target_arch = "wasm32"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server on a folder of its own, stopped (and the folder removed) on drop.
struct Server {
    child: Child,
    addr: String,
    dir: PathBuf,
}

impl Server {
    /// Serves a fresh folder: index.html, app.wasm, sub/page.html, and `link`, a symlink to a
    /// file outside the root.
    fn start(name: &str, timeout: &str) -> Server {
        let dir = std::env::temp_dir().join(format!("prunelab-serve-{}-{name}", std::process::id()));
        let root = dir.join("www");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "<!doctype html><title>lab</title>").unwrap();
        std::fs::write(root.join("app.wasm"), b"\0asm\x01\0\0\0").unwrap();
        std::fs::write(root.join("sub/page.html"), "sub").unwrap();
        std::fs::write(dir.join("secret.txt"), "SECRET").unwrap();
        std::os::unix::fs::symlink(dir.join("secret.txt"), root.join("link")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_prunelab"))
            .args(["serve", "--port", "0", "--timeout", timeout, "--root"])
            .arg(&root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.split("http://").nth(1).and_then(|s| s.split('/').next()).unwrap_or_else(|| panic!("no address in {line:?}")).to_owned();
        Server { child, addr, dir }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// Sends `request` as it is and reads the whole answer (the server closes after it).
    fn raw(&self, request: &[u8]) -> Response {
        let mut s = self.connect();
        s.write_all(request).unwrap();
        let mut bytes = Vec::new();
        let _ = s.read_to_end(&mut bytes); // a reset after the answer is fine
        Response::parse(&bytes)
    }

    fn get(&self, path: &str, headers: &str) -> Response {
        self.raw(format!("GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n{headers}\r\n").as_bytes())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn parse(bytes: &[u8]) -> Response {
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(bytes)));
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
        Response { status, head, body: bytes[end + 4..].to_vec() }
    }

    /// A header's value (names compare in any case, as in HTTP).
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| l.split_once(": ").filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v))
    }
}

#[test]
fn serves_the_page_with_its_types_headers_ranges_and_conditional_requests() {
    let server = Server::start("files", "10");
    let page = server.get("/", "");
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.header("content-security-policy").unwrap().contains("default-src 'self'"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    // Cross-origin isolated, so the page may run the threaded bundle.
    assert_eq!(page.header("cross-origin-opener-policy"), Some("same-origin"));
    assert_eq!(page.header("cross-origin-embedder-policy"), Some("require-corp"));
    assert_eq!(String::from_utf8_lossy(&page.body), "<!doctype html><title>lab</title>");

    assert_eq!(server.get("/app.wasm", "").header("content-type"), Some("application/wasm"));

    let part = server.get("/app.wasm", "Range: bytes=0-3\r\n");
    assert_eq!(part.status, 206);
    assert_eq!(part.body, b"\0asm");

    let modified = page.header("last-modified").expect("a Last-Modified date");
    let again = server.get("/", &format!("If-Modified-Since: {modified}\r\n"));
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    let folder = server.get("/sub", "");
    assert_eq!((folder.status, folder.header("location")), (301, Some("/sub/")));
    let missing = server.get("/nope.js", "");
    assert_eq!(missing.status, 404);
    assert!(missing.header("content-security-policy").is_some(), "the CSP is on every response");
    assert_eq!(missing.header("cross-origin-embedder-policy"), Some("require-corp"), "and the isolation");
    assert_eq!(server.raw(b"POST / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").status, 405);
}

#[test]
fn refuses_paths_out_of_the_root_in_any_spelling_and_by_symlink() {
    let server = Server::start("escape", "10");
    for path in ["/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%2fsecret.txt", "/sub/%2e%2e/%2e%2e/secret.txt", "/link", "/%00"] {
        let r = server.get(path, "");
        assert!(r.status == 404 || r.status == 400, "{path}: {}", r.status);
        assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"), "{path} leaked the file");
    }
}

#[test]
fn an_over_long_header_is_refused_and_the_server_keeps_serving() {
    let server = Server::start("header", "10");
    let r = server.get("/", &format!("X-Junk: {}\r\n", "a".repeat(64 * 1024)));
    assert_eq!(r.status, 431, "{}", r.head);
    assert_eq!(server.get("/", "").status, 200);
}

#[test]
fn a_client_too_slow_to_send_its_request_is_disconnected() {
    let server = Server::start("slow", "1");
    let mut slow = server.connect();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: lab\r\n").unwrap(); // and never the rest
    let started = Instant::now();
    let mut bytes = Vec::new();
    let _ = slow.read_to_end(&mut bytes); // returns when the server hangs up
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(10), "still connected after {waited:?}");
    assert!(!String::from_utf8_lossy(&bytes).contains("<title>lab"), "the slow client got the page");
    assert_eq!(server.get("/", "").status, 200, "others are still served");
}
