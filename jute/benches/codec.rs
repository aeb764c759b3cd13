//! Micro-benchmarks of the hot client-port codecs: a getData request and its 100-byte reply,
//! and a create request (header + body, as the server decodes/encodes them per frame).

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use jute::consts::OpCode;
use jute::data::{Acl, Stat};
use jute::proto::*;
use jute::{decode_all, decode_prefix, Codec, Request};

fn request_frame(xid: i32, r: &Request) -> Bytes {
    let mut b = BytesMut::new();
    RequestHeader {
        xid,
        op: r.opcode().code(),
    }
    .encode(&mut b);
    r.encode(&mut b);
    b.freeze()
}

/// Decodes a request frame the way the server does: header, then the typed body.
fn decode_request(f: &[u8]) -> Request {
    let (h, body) = decode_prefix::<RequestHeader>(f).unwrap();
    Request::decode(h.op, body).unwrap()
}

fn bench(c: &mut Criterion) {
    let get = Request::GetData(GetDataRequest {
        path: "/bench/node-0000000042".into(),
        watch: true,
    });
    let create = Request::Create(
        OpCode::Create2,
        CreateRequest {
            path: "/bench/node-".into(),
            data: Some(Bytes::from(vec![7u8; 100])),
            acl: Acl::open(),
            flags: 2,
        },
    );
    let reply_header = ReplyHeader {
        xid: 42,
        zxid: 0x1_0000_1234,
        err: 0,
    };
    let reply = GetDataResponse {
        data: Some(Bytes::from(vec![7u8; 100])),
        stat: Stat {
            czxid: 5,
            mzxid: 9,
            data_length: 100,
            version: 3,
            ..Default::default()
        },
    };
    let get_frame = request_frame(42, &get);
    let create_frame = request_frame(43, &create);
    let mut reply_frame = BytesMut::new();
    reply_header.encode(&mut reply_frame);
    reply.encode(&mut reply_frame);
    let reply_frame = reply_frame.freeze();

    let mut g = c.benchmark_group("jute");
    g.bench_function("getData request decode", |b| {
        b.iter(|| decode_request(black_box(&get_frame)))
    });
    g.bench_function("getData request encode", |b| {
        let mut out = BytesMut::with_capacity(256);
        b.iter(|| {
            out.clear();
            RequestHeader { xid: 42, op: 4 }.encode(&mut out);
            black_box(&get).encode(&mut out);
        })
    });
    g.bench_function("getData response (100 B) decode", |b| {
        b.iter(|| {
            let (h, body) = decode_prefix::<ReplyHeader>(black_box(&reply_frame)).unwrap();
            (h, decode_all::<GetDataResponse>(body).unwrap())
        })
    });
    g.bench_function("getData response (100 B) encode", |b| {
        let mut out = BytesMut::with_capacity(256);
        b.iter(|| {
            out.clear();
            black_box(&reply_header).encode(&mut out);
            black_box(&reply).encode(&mut out);
        })
    });
    g.bench_function("create request (100 B) decode", |b| {
        b.iter(|| decode_request(black_box(&create_frame)))
    });
    g.bench_function("create request (100 B) encode", |b| {
        let mut out = BytesMut::with_capacity(256);
        b.iter(|| {
            out.clear();
            RequestHeader { xid: 43, op: 15 }.encode(&mut out);
            black_box(&create).encode(&mut out);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
