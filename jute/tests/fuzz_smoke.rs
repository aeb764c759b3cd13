//! Stable-toolchain fuzzing: random and mutated-valid byte strings thrown at every decoder
//! (about 20k cases in all). Nothing may panic, anything that decodes must re-encode to
//! something that decodes to the same value, and no single allocation may be far larger
//! than the input (a declared length of i32::MAX must not reserve 2^31 elements).
//! The coverage-guided targets in jute/fuzz/ are the nightly counterpart.

mod common;

use bytes::BytesMut;
use jute::consts::OpCode;
use jute::data::*;
use jute::file::{FileHeader, LogRecord};
use jute::proto::*;
use jute::quorum::*;
use jute::request::decode_multi_results;
use jute::txn::*;
use jute::{decode_all, decode_prefix, frame, Codec, Limits, Request};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Records the largest single allocation made by the current thread.
struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|m| m.set(m.get().max(l.size())));
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|m| m.set(m.get().max(new)));
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static ALLOC: Tracking = Tracking;

/// Decodes `i` as one `T`; if that works, the re-encoding must decode to the same value.
fn rt<T: Codec + PartialEq + std::fmt::Debug>(i: &[u8]) {
    if let Ok(v) = decode_all::<T>(i) {
        assert_eq!(decode_all::<T>(&v.to_bytes()).as_ref(), Ok(&v));
    }
    let _ = T::decode(i);
}

/// Every decoder in the crate, on the same input.
fn decode_everything(i: &[u8]) {
    let max = 4096;
    let _ = frame::frame_len(i, max);
    let _ = frame::complete_frame(i, max);
    // Client port: handshake, then header + body for the header's opcode and for every opcode.
    rt::<ConnectRequest>(i);
    rt::<ConnectResponse>(i);
    if let Ok((h, body)) = decode_prefix::<RequestHeader>(i) {
        request(h.op, body);
    }
    for op in OpCode::ALL {
        request(op.code(), i);
    }
    if let Ok((_, body)) = decode_prefix::<ReplyHeader>(i) {
        rt::<WatcherEvent>(body);
        let _ = decode_multi_results(body);
    }
    let _ = decode_multi_results(i);
    records(i);
    // Txns and the log.
    let _ = TxnEntry::decode_complete(i);
    for op in OpCode::ALL {
        let _ = TxnBody::decode_kind(op.code(), i);
    }
    let _ = LogRecord::decode(i, Limits::new(max));
    // Quorum.
    let _ = QuorumPacket::decode_limited(i, max);
    let _ = Limits::new(max).decode::<TxnEntryBytes>(i);
    rt::<Notification>(i);
    rt::<ElectionHello>(i);
}

/// A length-prefixed buffer, to drive [`Limits::decode`] over a generic record.
type TxnEntryBytes = (i32, Vec<Txn>);

fn request(op: i32, body: &[u8]) {
    // Decoding with values sliced from the frame must give exactly what copying gives.
    let frame = bytes::Bytes::copy_from_slice(body);
    let shared = jute::codec::decode_sharing(&frame, || Request::decode(op, &frame));
    assert_eq!(shared, Request::decode(op, body));
    if let Ok(r) = Request::decode(op, body) {
        let mut b = BytesMut::new();
        r.encode(&mut b);
        assert_eq!(Request::decode(op, &b), Ok(r));
    }
}

fn records(i: &[u8]) {
    rt::<Id>(i);
    rt::<Acl>(i);
    rt::<Stat>(i);
    rt::<StatPersisted>(i);
    rt::<ReplyHeader>(i);
    rt::<MultiHeader>(i);
    rt::<AuthPacket>(i);
    rt::<SetWatches>(i);
    rt::<SetWatches2>(i);
    rt::<GetDataResponse>(i);
    rt::<CreateRequest>(i);
    rt::<CreateTtlRequest>(i);
    rt::<Create2Response>(i);
    rt::<GetChildren2Response>(i);
    rt::<GetAclResponse>(i);
    rt::<SetAclRequest>(i);
    rt::<WhoAmIResponse>(i);
    rt::<ReconfigRequest>(i);
    rt::<SaslToken>(i);
    rt::<TxnHeader>(i);
    rt::<CreateTxn>(i);
    rt::<CreateTxnV0>(i);
    rt::<CreateTtlTxn>(i);
    rt::<CreateContainerTxn>(i);
    rt::<SetDataTxn>(i);
    rt::<SetAclTxn>(i);
    rt::<CloseSessionTxn>(i);
    rt::<MultiTxn>(i);
    rt::<QuorumPacket>(i);
    rt::<LearnerInfo>(i);
    rt::<QuorumAuthPacket>(i);
    rt::<FileHeader>(i);
    rt::<Vec<String>>(i);
    rt::<Option<Vec<Id>>>(i);
}

/// Runs the decoders and checks that no allocation exceeded a small multiple of the input.
fn check(i: &[u8]) {
    LARGEST.with(|m| m.set(0));
    decode_everything(i);
    let largest = LARGEST.with(|m| m.get());
    assert!(
        largest <= 64 * i.len() + 64 * 1024,
        "a {}-byte input caused a {largest}-byte allocation",
        i.len()
    );
}

/// A mutation of a valid encoding.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    /// Overwrite 4 bytes with a length/count word: -1, -2, 0, i32::MAX, 0x7fff_0000, …
    Word(usize, i32),
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let word = prop_oneof![
        Just(-1),
        Just(-2),
        Just(0),
        Just(i32::MAX),
        Just(0x7fff_0000),
        Just(1 << 20),
        any::<i32>()
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), word).prop_map(|(p, w)| Mutation::Word(p, w)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
    ]
}

fn mutate(mut b: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let n = b.len().max(1);
        match m {
            Mutation::Flip(p, x) if !b.is_empty() => b[p % n] ^= x,
            Mutation::Truncate(p) => b.truncate(p % n),
            Mutation::Word(p, w) if b.len() >= 4 => {
                let at = p % (b.len() - 3);
                b[at..at + 4].copy_from_slice(&w.to_be_bytes());
            }
            Mutation::Insert(p, x) => {
                let at = p % (b.len() + 1);
                b.splice(at..at, x.iter().copied());
            }
            _ => {}
        }
    }
    b
}

/// Encodings of valid values of every kind, with a request header in front of requests.
fn valid() -> impl Strategy<Value = Vec<u8>> {
    let req = common::request().prop_map(|r| {
        let mut b = BytesMut::new();
        RequestHeader {
            xid: 7,
            op: r.opcode().code(),
        }
        .encode(&mut b);
        r.encode(&mut b);
        b.to_vec()
    });
    let txn = common::txn_entry().prop_map(|e| {
        let mut b = BytesMut::new();
        e.encode(&mut b);
        b.to_vec()
    });
    let results = proptest::collection::vec(common::multi_result(), 0..4).prop_map(|rs| {
        let mut b = BytesMut::new();
        ReplyHeader::default().encode(&mut b);
        jute::request::encode_multi_results(&rs, &mut b);
        b.to_vec()
    });
    prop_oneof![
        4 => req,
        3 => txn,
        1 => results,
        1 => common::quorum_packet().prop_map(|p| p.to_bytes().to_vec()),
        1 => common::notification().prop_map(|n| n.to_bytes().to_vec()),
        1 => common::connect_request().prop_map(|c| c.to_bytes().to_vec()),
        1 => common::election_hello().prop_map(|h| h.to_bytes().to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary bytes.
    #[test]
    fn random_bytes(i in proptest::collection::vec(any::<u8>(), 0..200)) {
        check(&i);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Valid encodings with a few bytes flipped, cut, inserted or replaced by length words.
    #[test]
    fn mutated_valid(v in valid(), ms in proptest::collection::vec(mutation(), 1..4)) {
        check(&mutate(v, &ms));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// A huge count or length at every position of a short valid prefix.
    #[test]
    fn huge_lengths(v in valid(), at in any::<usize>()) {
        let mut b = v;
        b.truncate(64);
        let n = b.len().max(4);
        b.resize(n, 0);
        let at = at % (n - 3);
        b[at..at + 4].copy_from_slice(&i32::MAX.to_be_bytes());
        check(&b);
    }
}

#[test]
fn i32_max_counts_do_not_allocate() {
    // The tracker itself sees allocations.
    LARGEST.with(|m| m.set(0));
    drop(std::hint::black_box(Vec::<u8>::with_capacity(1 << 20)));
    assert!(LARGEST.with(|m| m.get()) >= 1 << 20);
    for prefix in [&[][..], &[0, 0, 0, 1][..]] {
        let mut b = prefix.to_vec();
        b.extend_from_slice(&i32::MAX.to_be_bytes());
        b.extend_from_slice(&[0; 12]);
        check(&b);
        LARGEST.with(|m| m.set(0));
        let _ = decode_all::<Vec<Acl>>(&b);
        let _ = decode_all::<Vec<String>>(&b);
        let _ = decode_all::<Vec<Txn>>(&b);
        assert!(LARGEST.with(|m| m.get()) < 4096);
    }
}

#[test]
fn limits_reject_declared_lengths_past_max_buffer() {
    let limits = Limits::default();
    let mut b = BytesMut::new();
    b.extend_from_slice(&(limits.max_buffer as i32 + 1).to_be_bytes());
    assert!(matches!(
        limits.decode::<bytes::Bytes>(&b),
        Err(nom::Err::Failure(jute::DecodeError::TooLong { .. }))
    ));
    // Within the limit it is merely incomplete: a stream reader waits for more.
    let mut ok = BytesMut::new();
    ok.extend_from_slice(&1000i32.to_be_bytes());
    assert!(matches!(
        limits.decode::<String>(&ok),
        Err(nom::Err::Incomplete(_))
    ));
    // Frames: the length word alone decides.
    let frame = ((limits.max_buffer + 1) as i32).to_be_bytes();
    assert!(frame::frame_len(&frame, limits.max_buffer).is_err());
}
