//! Hand-built byte vectors for the encodings' corner cases (PROTOCOL.md §1–3, §9).

use bytes::{BufMut, Bytes, BytesMut};
use jute::consts::OpCode;
use jute::proto::*;
use jute::txn::*;
use jute::{decode_all, Codec, DecodeError, Request};

#[test]
fn ping_request_frame() {
    let mut b = BytesMut::new();
    jute::frame::put_frame(&mut b, |o| {
        RequestHeader { xid: -2, op: 11 }.encode(o);
        Request::Ping.encode(o);
    });
    assert_eq!(&b[..], &[0, 0, 0, 8, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 0x0B]);
}

#[test]
fn connect_request_with_and_without_read_only() {
    let mut r = ConnectRequest {
        timeout: 30_000,
        passwd: Bytes::from(vec![0u8; 16]),
        read_only: Some(false),
        ..Default::default()
    };
    assert_eq!(r.to_bytes().len(), 45);
    r.read_only = None;
    assert_eq!(r.to_bytes().len(), 44);
    assert_eq!(decode_all::<ConnectRequest>(&r.to_bytes()), Ok(r));
}

#[test]
fn close_session_has_no_body() {
    assert_eq!(
        Request::decode(OpCode::CloseSession.code(), &[]),
        Ok(Request::CloseSession)
    );
}

#[test]
fn java_cesu8_strings_decode() {
    // U+1F600 as Java's writer emits it: two 3-byte surrogates.
    let cesu = [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80];
    let mut b = BytesMut::new();
    b.put_i32(8);
    b.put_slice(b"/a");
    b.put_slice(&cesu);
    assert_eq!(decode_all::<String>(&b), Ok("/a\u{1F600}".to_string()));
    // A lone surrogate or other garbage is still an error.
    let mut bad = BytesMut::new();
    bad.put_i32(3);
    bad.put_slice(&cesu[..3]);
    assert_eq!(decode_all::<String>(&bad), Err(DecodeError::BadUtf8));
}

fn header(kind: OpCode) -> TxnHeader {
    TxnHeader {
        client_id: 1,
        cxid: 2,
        zxid: 3,
        time: 4,
        kind: kind.code(),
    }
}

#[test]
fn close_session_without_record_but_with_digest() {
    let e = TxnEntry {
        header: header(OpCode::CloseSession),
        body: TxnBody::CloseSession(None),
        digest: Some(TxnDigest {
            version: 2,
            tree_digest: 0x1234_5678_9abc,
        }),
    };
    let mut b = BytesMut::new();
    e.encode(&mut b);
    assert_eq!(b.len(), 32 + 12);
    assert_eq!(TxnEntry::decode_complete(&b), Ok(e));
}

#[test]
fn legacy_create_fallback_is_for_type_1_only() {
    let v0 = CreateTxnV0 {
        path: "/a".into(),
        data: None,
        acl: vec![],
        ephemeral: false,
    };
    let mut b = BytesMut::new();
    header(OpCode::Create).encode(&mut b);
    v0.encode(&mut b);
    let e = TxnEntry::decode_complete(&b).unwrap();
    assert_eq!(e.body, TxnBody::CreateV0(v0.clone()));

    let mut b = BytesMut::new();
    header(OpCode::Create2).encode(&mut b);
    v0.encode(&mut b);
    assert_eq!(TxnEntry::decode_complete(&b), Err(DecodeError::Truncated));
}

#[test]
fn multi_request_layout() {
    let r = Request::Multi(vec![jute::MultiOp::Delete(DeleteRequest {
        path: "/x".into(),
        version: -1,
    })]);
    let mut b = BytesMut::new();
    r.encode(&mut b);
    let want: &[u8] = &[
        0, 0, 0, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF, // MultiHeader{2, false, -1}
        0, 0, 0, 2, b'/', b'x', 0xFF, 0xFF, 0xFF, 0xFF, // DeleteRequest
        0xFF, 0xFF, 0xFF, 0xFF, 1, 0xFF, 0xFF, 0xFF, 0xFF, // MultiHeader{-1, true, -1}
    ];
    assert_eq!(&b[..], want);
    // A read op inside a write multi is a marshalling error.
    let bad = Request::MultiRead(vec![jute::MultiOp::Delete(DeleteRequest::default())]);
    let mut b = BytesMut::new();
    bad.encode(&mut b);
    assert!(Request::decode(OpCode::MultiRead.code(), &b).is_err());
}
