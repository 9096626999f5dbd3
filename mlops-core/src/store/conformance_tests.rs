//! The same behaviour checks for every [`Store`] backend, plus a crash test
//! that kills a writing process and checks batch atomicity on reopen.

use std::sync::Arc;

use super::*;

fn backends() -> Vec<(Option<tempfile::TempDir>, SharedStore)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sled: SharedStore = Arc::new(SledStore::open(dir.path()).expect("open"));
    #[allow(unused_mut)]
    let mut v: Vec<(Option<tempfile::TempDir>, SharedStore)> =
        vec![(None, Arc::new(MemoryStore::new())), (Some(dir), sled)];
    #[cfg(feature = "postgres")]
    match std::env::var("MLOPS_TEST_POSTGRES_URL") {
        Ok(url) => v.push((None, open(&url).expect("open PostgreSQL store"))),
        // CI starts a server and sets the URL (`.ci/run`), so there the
        // PostgreSQL backend can never be skipped silently.
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but MLOPS_TEST_POSTGRES_URL is unset: start `scripts/pg-test-server.sh`"
            )
        }
        Err(_) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("MLOPS_TEST_POSTGRES_URL unset: PostgreSQL backend skipped");
            }
        }
    }
    v
}

fn keys(it: Result<Box<dyn Iterator<Item = Result<Entry>> + '_>>) -> Vec<Vec<u8>> {
    it.expect("scan").map(|e| e.expect("entry").0).collect()
}

#[test]
fn every_backend_reads_writes_and_scans_alike() {
    for (_dir, s) in backends() {
        let mut b = WriteBatch::new();
        b.insert("t", b"k\x00\x02".to_vec(), b"2".to_vec());
        b.insert("t", b"k\x00\x01".to_vec(), b"1".to_vec());
        b.insert("t", b"k\x01".to_vec(), b"x".to_vec());
        b.insert("u", b"k\x00\x01".to_vec(), b"u".to_vec());
        b.insert("t", b"gone".to_vec(), b"g".to_vec());
        b.remove("t", b"gone".to_vec());
        s.apply(b).expect("apply");
        assert_eq!(
            keys(s.scan_prefix("t", b"k\x00")),
            [b"k\x00\x01".to_vec(), b"k\x00\x02".to_vec()]
        );
        assert_eq!(keys(s.scan_range("t", b"k\x00\x02", b"k\x02")).len(), 2);
        assert!(keys(s.scan_range("t", b"k", b"k")).is_empty());
        assert_eq!(
            keys(s.scan_range_rev("t", b"k\x00\x02", b"k\x02")),
            [b"k\x01".to_vec(), b"k\x00\x02".to_vec()]
        );
        assert!(keys(s.scan_range_rev("t", b"k\x02", b"k")).is_empty());
        assert!(keys(s.scan_prefix("missing-tree", b"")).is_empty());
        assert_eq!(s.get("t", b"gone").expect("get"), None);
        assert_eq!(
            s.get("u", b"k\x00\x01").expect("get").as_deref(),
            Some(&b"u"[..])
        );
        s.apply(WriteBatch::new()).expect("empty batch");
        s.flush().expect("flush");
    }
}

#[test]
fn apply_if_writes_everything_or_nothing() {
    for (_dir, s) in backends() {
        let batch = |v: &[u8]| {
            let mut b = WriteBatch::new();
            b.insert("head", b"h".to_vec(), v.to_vec());
            b.insert("body", v.to_vec(), b"payload".to_vec());
            b
        };
        assert!(s.apply_if("head", b"h", None, batch(b"1")).expect("create"));
        assert!(!s.apply_if("head", b"h", None, batch(b"2")).expect("stale"));
        assert!(
            !s.apply_if("head", b"h", Some(b"0"), batch(b"2"))
                .expect("stale")
        );
        assert_eq!(
            s.get("body", b"2").expect("get"),
            None,
            "a refused batch wrote"
        );
        assert!(
            s.apply_if("head", b"h", Some(b"1"), batch(b"2"))
                .expect("ok")
        );
        assert_eq!(
            s.get("head", b"h").expect("get").as_deref(),
            Some(&b"2"[..])
        );
        assert!(s.get("body", b"2").expect("get").is_some());
        // The guard tree need not be written by the batch.
        let mut other = WriteBatch::new();
        other.insert("body", b"z".to_vec(), b"z".to_vec());
        assert!(s.apply_if("head", b"h", Some(b"2"), other).expect("ok"));
    }
}

#[test]
fn apply_if_serializes_concurrent_read_modify_write() {
    for (_dir, s) in backends() {
        let handles: Vec<_> = (0..4u8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..25u8 {
                        loop {
                            let old = s.get("ctr", b"n").expect("get");
                            let n = old.as_deref().map_or(0, |b| b[0]);
                            let mut b = WriteBatch::new();
                            b.insert("ctr", b"n".to_vec(), vec![n + 1]);
                            b.insert("log", vec![n + 1], vec![t, i]);
                            if s.apply_if("ctr", b"n", old.as_deref(), b)
                                .expect("apply_if")
                            {
                                break;
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("join");
        }
        assert_eq!(s.get("ctr", b"n").expect("get"), Some(vec![100]));
        // Every increment owns exactly one log slot: no lost update.
        assert_eq!(keys(s.scan_prefix("log", b"")).len(), 100);
    }
}

const CRASH_CHILD_ENV: &str = "MLOPS_TEST_CRASH_CHILD_STORE";

/// Child half of `killed_writer_leaves_whole_batches`: writes numbered
/// batches across three trees until killed, recording each acknowledged
/// (flushed) batch number in a side file.
#[test]
fn crash_child_process() {
    let Ok(path) = std::env::var(CRASH_CHILD_ENV) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let store = SledStore::builder(&path)
        .flush_every_ms(None)
        .open()
        .expect("child open");
    let acked = path.with_extension("acked");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut n: u32 = 0;
    while std::time::Instant::now() < deadline {
        n += 1;
        let mut b = WriteBatch::new();
        for tree in ["a", "b", "c"] {
            // Values of a few KB so a batch spans more than one log write.
            b.insert(
                tree,
                n.to_be_bytes().to_vec(),
                vec![tree.as_bytes()[0]; 3000],
            );
        }
        store.apply(b).expect("apply");
        if n.is_multiple_of(20) {
            store.flush().expect("flush");
            std::fs::write(&acked, n.to_string()).expect("ack file");
        }
    }
}

#[test]
fn killed_writer_leaves_whole_batches_and_keeps_acknowledged_ones() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store");
    let acked = path.with_extension("acked");
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "store::conformance_tests::crash_child_process",
            "--test-threads=1",
        ])
        .env(CRASH_CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn child");
    // Let it acknowledge a few hundred batches, then kill it mid-write.
    let deadline = Instant::now() + Duration::from_secs(30);
    let read_acked = || {
        std::fs::read_to_string(&acked)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
    };
    while read_acked().is_none_or(|n| n < 200) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    let acked_n = read_acked().expect("child acknowledged batches");

    let store = SledStore::open(&path).expect("reopen after kill");
    let count = |t: &str| keys(store.scan_prefix(t, b""));
    let (a, b, c) = (count("a"), count("b"), count("c"));
    assert_eq!(a, b, "trees a and b disagree: a batch was half applied");
    assert_eq!(a, c, "trees a and c disagree: a batch was half applied");
    assert!(
        a.len() >= acked_n as usize,
        "{} batches survived, {acked_n} were acknowledged",
        a.len()
    );
    // Survivors are a prefix 1..=k: no batch is lost while a later one stays.
    let expected: Vec<Vec<u8>> = (1..=a.len() as u32)
        .map(|n| n.to_be_bytes().to_vec())
        .collect();
    assert_eq!(a, expected);
}
