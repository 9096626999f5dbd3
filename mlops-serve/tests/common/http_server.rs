//! A scoring server on 127.0.0.1:0 on its own runtime thread, and raw-TCP
//! helpers for the tests that must control the bytes on the wire.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mlops_core::data::{Frame, Value};
use mlops_serve::Record;
use mlops_serve::http::{ModelSlot, ServerConfig, serve};
use serde_json::{Value as Json, json};

/// A running server; [`shutdown`](Self::shutdown) stops it gracefully.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    pub fn start(slot: ModelSlot) -> Server {
        Self::with_config(slot, ServerConfig::default())
    }

    pub fn with_config(slot: ModelSlot, config: ServerConfig) -> Server {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                addr_tx.send(listener.local_addr()?).expect("addr");
                serve(listener, slot, config, async move {
                    let _ = stop_rx.await;
                })
                .await
            })
        });
        let addr = addr_rx.recv().expect("server started");
        Server {
            addr,
            base: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn shutdown(mut self) {
        drop(self.stop.take());
        let result = self.thread.take().expect("thread").join().expect("join");
        result.expect("server stopped cleanly");
    }
}

/// A reply read off a raw connection.
#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// Opens a connection with a read timeout.
pub fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    tcp
}

/// Writes `bytes` as they are.
pub fn send(tcp: &mut TcpStream, bytes: &[u8]) {
    tcp.write_all(bytes).expect("write");
    tcp.flush().expect("flush");
}

/// Reads one reply (head and a `Content-Length` body); `None` when the
/// server closed the connection without answering.
pub fn read_reply(tcp: &mut TcpStream) -> Option<RawReply> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match tcp.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head.get(9..12)?.parse().ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match tcp.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
    Some(RawReply { status, head, body })
}

/// A reply's header value (case-insensitive name).
pub fn header<'a>(reply: &'a RawReply, name: &str) -> Option<&'a str> {
    reply.head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Rows of `frame` as a `dataframe_records` body.
pub fn json_records(frame: &Frame, rows: std::ops::Range<usize>) -> Json {
    let cell = |v: Value<'_>| match v {
        Value::Number(x) if x.is_finite() => json!(x),
        Value::Text(s) => json!(s),
        _ => Json::Null,
    };
    let list: Vec<Json> = rows
        .map(|i| {
            Json::Object(
                Record::from_frame_row(frame, i)
                    .iter()
                    .map(|(k, v)| (k.to_owned(), cell(v)))
                    .collect(),
            )
        })
        .collect();
    json!({ "dataframe_records": list })
}
