//! Unit tests on object_store's InMemory bucket, the conformance suite against a real
//! PostgreSQL ([`crate::testing`]), and the scenarios: two sequencers on one
//! database, a crash between commit and upload, a bucket ahead of the database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::objects::Objects;
use crate::pg::cut_bundles;
use crate::{testing, OpenError, PgStore};
use cairn_log::{LogStore, MemStore, PendingEntry, Sequencer, SequencerError, StoreError};
use cairn_merkle::leaf_hash;
use cairn_merkle::tiles::{EntryBundle, Tile};
use futures_util::TryStreamExt as _;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::ObjectStore;
use std::collections::BTreeMap;
use std::sync::Arc;

const ORIGIN: &str = "example.com/pg-log";

fn sequencer<S: LogStore>(store: S) -> Result<Sequencer<S>, SequencerError> {
    cairn_log::testing::open_sequencer(store, ORIGIN)
}

fn pending(tag: &str, i: u64) -> PendingEntry {
    let body = format!("{{\"{tag}\":{i}}}").into_bytes();
    PendingEntry {
        leaf_hash: leaf_hash(&body),
        body,
    }
}

fn batch(tag: &str, range: std::ops::Range<u64>) -> Vec<PendingEntry> {
    range.map(|i| pending(tag, i)).collect()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn memory() -> Arc<dyn ObjectStore> {
    Arc::new(InMemory::new())
}

/// Every object in `bucket`, by path.
fn contents(bucket: &Arc<dyn ObjectStore>) -> BTreeMap<String, Vec<u8>> {
    block_on(async {
        let metas: Vec<_> = bucket.list(None).try_collect().await.unwrap();
        let mut out = BTreeMap::new();
        for m in metas {
            let data = bucket
                .get(&m.location)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            out.insert(m.location.to_string(), data.to_vec());
        }
        out
    })
}

fn put(bucket: &Arc<dyn ObjectStore>, path: &str, data: Vec<u8>) {
    block_on(bucket.put(&Path::from(path), data.into())).unwrap();
}

fn open(url: &str, bucket: &Arc<dyn ObjectStore>) -> Result<PgStore, OpenError> {
    PgStore::open_with_objects(url, bucket.clone(), Path::from("log"), true)
}

/// Sequences `batches` on a fresh database and `bucket`; returns the bucket's contents.
fn solo_run(
    test: &str,
    bucket: Arc<dyn ObjectStore>,
    batches: &[Vec<PendingEntry>],
) -> Option<BTreeMap<String, Vec<u8>>> {
    let url = testing::database(test)?;
    let mut seq = sequencer(open(&url, &bucket).unwrap()).unwrap();
    for b in batches {
        seq.integrate(b).unwrap();
    }
    Some(contents(&bucket))
}

#[test]
fn bundles_are_cut_at_tile_boundaries_and_carry_the_edge() {
    let body = |i: u64| format!("e{i}").into_bytes();
    let (bundles, edge) = cut_bundles(0, Vec::new(), (0..3).map(body)).unwrap();
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundles[0].0, "tile/entries/000.p/3");
    assert_eq!(edge, (0..3).map(body).collect::<Vec<_>>());

    // From size 3 to 600: the rest of bundle 0, a full bundle 1, a partial bundle 2.
    let (bundles, edge) = cut_bundles(3, edge, (3..600).map(body)).unwrap();
    let paths: Vec<&str> = bundles.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "tile/entries/000",
            "tile/entries/001",
            "tile/entries/002.p/88"
        ]
    );
    let b1 = EntryBundle::parse(&bundles[1].1, Some(256)).unwrap();
    assert_eq!(b1.entries(), (256..512).map(body).collect::<Vec<_>>());
    assert_eq!(edge.len(), 88);

    // Ending exactly on a boundary leaves an empty edge; a wrong edge is refused.
    let (bundles, edge) = cut_bundles(600, edge, (600..768).map(body)).unwrap();
    assert_eq!(bundles.last().unwrap().0, "tile/entries/002");
    assert!(edge.is_empty());
    assert!(cut_bundles(5, Vec::new(), (5..6).map(body)).is_err());
}

#[test]
fn objects_carry_cache_headers_in_memory_buckets() {
    let bucket = memory();
    let objects = Objects::new(bucket.clone(), Path::from("a/b"), true);
    block_on(async {
        objects
            .put("tile/0/000", vec![1u8; 32].into())
            .await
            .unwrap();
        objects
            .put("checkpoint", b"cp\n".to_vec().into())
            .await
            .unwrap();
        assert_eq!(objects.get("tile/0/000").await.unwrap().unwrap().len(), 32);
        assert!(objects.get("tile/0/001").await.unwrap().is_none());
    });
    assert_cache_headers(&bucket, "a/b");
}

/// Checks the Cache-Control of `<prefix>/tile/0/000` and `<prefix>/checkpoint`.
fn assert_cache_headers(bucket: &Arc<dyn ObjectStore>, prefix: &str) {
    let cache = |rel: &str| {
        let path = Path::from(format!("{prefix}/{rel}"));
        let got = block_on(bucket.get(&path)).unwrap();
        let value = got.attributes.get(&object_store::Attribute::CacheControl);
        value.unwrap().to_string()
    };
    assert_eq!(cache("tile/0/000"), "public, max-age=31536000, immutable");
    assert_eq!(cache("checkpoint"), "no-cache");
}

#[test]
fn conforms_with_an_in_memory_bucket() {
    let Some(url) = testing::database("conforms_with_an_in_memory_bucket") else {
        return;
    };
    let bucket = memory();
    cairn_log::testing::check_store(open(&url, &bucket).unwrap());
    // The suite's checkpoints are not signed notes, but the objects are where readers look.
    let objects = contents(&bucket);
    let last = format!("checkpoint {}\n", cairn_log::testing::CHECKED_SIZE);
    assert_eq!(objects["log/checkpoint"], last.as_bytes());
    assert_eq!(objects["log/tile/0/000.p/3"].len(), 3 * 32);
    assert_eq!(objects["log/tile/0/000"].len(), 256 * 32);
    assert!(objects.contains_key("log/tile/entries/001.p/44"));
}

#[test]
fn conforms_with_a_local_directory() {
    let Some(url) = testing::database("conforms_with_a_local_directory") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let objects_url = format!("file://{}/bucket", dir.path().display());
    cairn_log::testing::check_store(PgStore::open(&url, &objects_url).unwrap());
    let cp = std::fs::read(dir.path().join("bucket/checkpoint")).unwrap();
    let last = format!("checkpoint {}\n", cairn_log::testing::CHECKED_SIZE);
    assert_eq!(cp, last.as_bytes());
    assert!(dir.path().join("bucket/tile/entries/000").is_file());
}

#[test]
fn the_bucket_matches_the_embedded_store_and_survives_reopening() {
    let Some(url) = testing::database("the_bucket_matches_the_embedded_store") else {
        return;
    };
    let bucket = memory();
    let mem = Arc::new(MemStore::new());
    let mut reference = sequencer(mem.clone()).unwrap();
    let batches = [batch("a", 0..1), batch("a", 1..300), batch("a", 300..513)];
    {
        let mut seq = sequencer(open(&url, &bucket).unwrap()).unwrap();
        for b in &batches {
            let got = seq.integrate(b).unwrap();
            let want = reference.integrate(b).unwrap();
            assert_eq!(got.published, want.published);
            assert_eq!(got.entries, want.entries);
        }
    }
    let objects = contents(&bucket);
    let size = 513;
    assert_eq!(
        objects["log/checkpoint"],
        reference.published().checkpoint,
        "the public checkpoint is the signed one"
    );
    for (level, index) in [(0u8, 0u64), (0, 1), (0, 2), (1, 0)] {
        let tile = Tile::at_size(level, index, size).unwrap();
        let want = mem.read_tile(level, index).unwrap().unwrap();
        assert_eq!(
            objects[&format!("log/{}", tile.path())],
            want[..usize::from(tile.width()) * 32]
        );
    }
    for index in 0..3u64 {
        let tile = Tile::at_size(0, index, size).unwrap();
        let entries = mem
            .read_entries(index * 256, index * 256 + u64::from(tile.width()))
            .unwrap();
        let mut bundle = EntryBundle::new();
        for e in entries {
            bundle.push(e.body).unwrap();
        }
        assert_eq!(
            objects[&format!("log/{}", tile.entries_path())],
            bundle.to_bytes()
        );
    }
    // Every partial width any checkpoint referred to stays.
    assert!(objects.contains_key("log/tile/0/000.p/1"));
    assert!(objects.contains_key("log/tile/entries/001.p/44"));

    // A restart reloads the edge from the bucket and goes on where it was; duplicates are
    // found through the database and their bodies in the bucket.
    let mut seq = sequencer(open(&url, &bucket).unwrap()).unwrap();
    let mut again = batch("a", 510..520);
    again.push(pending("a", 3));
    let got = seq.integrate(&again).unwrap();
    let want = reference.integrate(&again).unwrap();
    assert_eq!(got.published, want.published);
    assert_eq!(got.entries, want.entries);
    assert!(got.entries[0].duplicate && !got.entries[3].duplicate);
}

#[test]
fn a_second_sequencer_is_refused_at_start() {
    let Some(url) = testing::database("a_second_sequencer_is_refused_at_start") else {
        return;
    };
    let bucket = memory();
    let first = open(&url, &bucket).unwrap();
    assert!(matches!(open(&url, &bucket), Err(OpenError::Locked)));
    drop(first);
    // The lock goes with the first store's connection.
    let mut retry = Err(OpenError::Locked);
    for _ in 0..50 {
        retry = open(&url, &bucket);
        if retry.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    retry.unwrap();
}

#[test]
fn two_sequencers_on_one_database_the_loser_stops_and_nothing_forks() {
    let batches = [batch("winner", 0..5), batch("winner", 5..300)];
    let Some(want) = solo_run("two_sequencers (solo)", memory(), &batches) else {
        return;
    };
    let url = testing::database("two_sequencers").unwrap();
    let bucket = memory();
    // Both open at size 0; the second bypasses the advisory lock, as a sequencer whose lock
    // was lost would, so that only the compare-and-swap stands between them.
    let mut a = sequencer(open(&url, &bucket).unwrap()).unwrap();
    let b_store = PgStore::open_with(&url, bucket.clone(), Path::from("log"), true, false).unwrap();
    let mut b = sequencer(b_store).unwrap();
    a.integrate(&batches[0]).unwrap();
    match b.integrate(&batch("loser", 0..7)) {
        Err(SequencerError::Store(StoreError::Conflict {
            expected: 0,
            found: 5,
        })) => {}
        other => panic!("the loser must hit the compare-and-swap, got {other:?}"),
    }
    a.integrate(&batches[1]).unwrap();
    assert_eq!(
        contents(&bucket),
        want,
        "the bucket holds exactly the winner's objects"
    );
    assert_eq!(
        a.store().lookup(&pending("loser", 0).leaf_hash).unwrap(),
        None
    );
}

#[test]
fn a_crash_between_commit_and_upload_is_published_byte_exact_at_the_next_start() {
    crash_between_commit_and_upload(&memory);
}

#[test]
fn a_crash_between_commit_and_upload_on_s3() {
    if testing::database("a_crash_between_commit_and_upload_on_s3").is_none() {
        return;
    }
    let Some(s3) = testing::s3_server("a_crash_between_commit_and_upload_on_s3") else {
        return;
    };
    crash_between_commit_and_upload(&|| s3.bucket().store());
}

/// Commits two batches, puts a new bucket (from `new_bucket`) in the state a crash right
/// after the second commit leaves, and checks that the next start publishes it byte-exact.
fn crash_between_commit_and_upload(new_bucket: &dyn Fn() -> Arc<dyn ObjectStore>) {
    let batches = [batch("c", 0..10), batch("c", 10..270)];
    let Some(want) = solo_run(
        "crash_between_commit_and_upload (solo)",
        new_bucket(),
        &batches,
    ) else {
        return;
    };
    let url = testing::database("crash_between_commit_and_upload").unwrap();
    let bucket = new_bucket();
    let mut seq = sequencer(open(&url, &bucket).unwrap()).unwrap();
    seq.integrate(&batches[0]).unwrap();
    let before = contents(&bucket);
    seq.integrate(&batches[1]).unwrap();
    drop(seq);
    // Put the bucket back as a crash right after the database commit leaves it: none of the
    // second batch's objects, the first batch's checkpoint.
    let crashed = new_bucket();
    for (path, data) in &before {
        put(&crashed, path, data.clone());
    }
    assert_ne!(contents(&crashed), want);
    assert_eq!(
        contents(&crashed)["log/checkpoint"],
        before["log/checkpoint"],
        "readers keep the old checkpoint"
    );
    let seq = sequencer(open(&url, &crashed).unwrap()).unwrap();
    assert_eq!(seq.published().size, 270);
    assert_eq!(
        contents(&crashed),
        want,
        "the staged batch is published byte-exact"
    );
}

#[test]
fn a_bucket_ahead_of_the_database_is_refused() {
    let Some(url) = testing::database("a_bucket_ahead_of_the_database_is_refused") else {
        return;
    };
    let bucket = memory();
    let mut seq = sequencer(open(&url, &bucket).unwrap()).unwrap();
    seq.integrate(&batch("f", 0..3)).unwrap();
    let old = seq.published();
    seq.integrate(&batch("f", 3..9)).unwrap();
    drop(seq);
    // A failover to a replica that never received the last commit.
    block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .execute(
                "UPDATE cairn_log SET size = $1, root = $2, checkpoint = $3",
                &[&(old.size as i64), &old.root.0.as_slice(), &old.checkpoint],
            )
            .await
            .unwrap();
        client
            .execute("DELETE FROM cairn_leaves WHERE idx >= 3", &[])
            .await
            .unwrap();
    });
    match open(&url, &bucket) {
        Err(OpenError::BucketAhead {
            bucket: 9,
            database: 3,
        }) => {}
        Err(e) => panic!("want BucketAhead, got {e}"),
        Ok(_) => panic!("want BucketAhead, the store opened"),
    }
    // An empty database under a bucket that holds a log is refused too.
    let empty = testing::database("a_bucket_ahead (empty database)").unwrap();
    assert!(matches!(
        open(&empty, &bucket),
        Err(OpenError::BucketAhead {
            bucket: 9,
            database: 0
        })
    ));
    // And a bucket at the same size with another checkpoint.
    let other = memory();
    let fresh = testing::database("a_bucket_ahead (same size)").unwrap();
    drop(sequencer(open(&fresh, &other).unwrap()).unwrap());
    let mut forked = sequencer(open(&fresh, &other).unwrap()).unwrap();
    forked.integrate(&batch("g", 0..1)).unwrap();
    drop(forked);
    put(&other, "log/checkpoint", seq_checkpoint_of_another_tree());
    assert!(matches!(
        open(&fresh, &other),
        Err(OpenError::BucketDiffers { size: 1 })
    ));
}

/// A checkpoint at size 1 over another entry than the `g` log's.
fn seq_checkpoint_of_another_tree() -> Vec<u8> {
    let mut seq = sequencer(MemStore::new()).unwrap();
    seq.integrate(&batch("other", 0..1))
        .unwrap()
        .published
        .checkpoint
}

#[test]
fn conforms_on_s3_through_an_objects_url() {
    let Some(url) = testing::database("conforms_on_s3") else {
        return;
    };
    let Some(s3) = testing::s3_server("conforms_on_s3") else {
        return;
    };
    let bucket = s3.bucket();
    cairn_log::testing::check_store(PgStore::open(&url, &bucket.url("v2/log")).unwrap());
    // Read back through an independent client: the objects, at the prefix, with the headers
    // a CDN in front of the bucket passes on.
    let store = bucket.store();
    let objects = contents(&store);
    let last = format!("checkpoint {}\n", cairn_log::testing::CHECKED_SIZE);
    assert_eq!(objects["v2/log/checkpoint"], last.as_bytes());
    assert_eq!(objects["v2/log/tile/0/000"].len(), 256 * 32);
    assert!(objects.contains_key("v2/log/tile/entries/001.p/44"));
    assert_cache_headers(&store, "v2/log");
    // A replica's view of the same bucket, through the same URL form.
    let replica = crate::Bucket::open(&bucket.url("v2/log")).unwrap();
    let cp = block_on(replica.checkpoint()).unwrap().unwrap();
    assert_eq!(cp.as_ref(), last.as_bytes());
}

#[test]
fn objects_urls_take_settings_in_the_query_and_refuse_unknown_ones() {
    use crate::objects_url::parse_objects_url;
    let (_, prefix, attributes) = parse_objects_url(
        "s3://b/v2/log?endpoint=http://127.0.0.1:1&allow_http=true&region=eu-west-3",
    )
    .unwrap();
    assert_eq!(prefix.as_ref(), "v2/log");
    assert!(attributes);
    let err = parse_objects_url("s3://b/p?endpoit=http://x&secret_access_key=hush")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown setting \"endpoit\""), "{err}");
    assert!(
        !err.contains("hush"),
        "the query stays out of messages: {err}"
    );
    assert!(parse_objects_url("file:///tmp/x?allow_http=true").is_err());
    assert!(parse_objects_url("ftp://b/p").is_err());
}

#[test]
fn file_buckets_are_synced_local_directories() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}/bucket/deep", dir.path().display());
    let (store, prefix, attributes) = crate::objects_url::parse_objects_url(&url).unwrap();
    assert!(store.to_string().starts_with("SyncedLocal("), "{store}");
    assert!(!attributes, "local files keep no HTTP headers");
    let objects = Objects::new(store.clone(), prefix, attributes);
    block_on(async {
        objects
            .put("tile/entries/000.p/1", b"\x00\x01a".to_vec().into())
            .await
            .unwrap();
        let got = objects.get("tile/entries/000.p/1").await.unwrap().unwrap();
        assert_eq!(got.as_ref(), b"\x00\x01a");
        assert!(objects.get("tile/0/000").await.unwrap().is_none());
        // Multipart uploads would bypass the fsync, so they are refused.
        assert!(store
            .put_multipart(&Path::from("big"))
            .await
            .is_err_and(|e| matches!(e, object_store::Error::NotImplemented)));
    });
    let on_disk = dir.path().join("bucket/deep/tile/entries/000.p/1");
    assert_eq!(std::fs::read(on_disk).unwrap(), b"\x00\x01a");
}
