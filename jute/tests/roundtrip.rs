//! Round-trip properties: for every record, `Request`, multi results and txn entries,
//! decode(encode(x)) == x, the decode consumes exactly the encoding, and no strict prefix of
//! the encoding decodes back to x.

mod common;

use bytes::BytesMut;
use jute::request::{decode_multi_results, encode_multi_results};
use jute::txn::TxnEntry;
use jute::{decode_all, Codec, Request};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::fmt::Debug;

/// encode → streaming decode (consumes all) → decode_all → prefixes do not round-trip.
fn round_trip<T: Codec + PartialEq + Debug + Clone>(v: &T) -> Result<(), TestCaseError> {
    let bytes = v.to_bytes();
    match T::decode(&bytes) {
        Ok((rest, d)) => {
            prop_assert!(rest.is_empty(), "{} bytes left over", rest.len());
            prop_assert_eq!(&d, v);
        }
        Err(e) => return Err(TestCaseError::fail(format!("decode failed: {e:?}"))),
    }
    prop_assert_eq!(decode_all::<T>(&bytes), Ok(v.clone()));
    for cut in 0..bytes.len() {
        prop_assert_ne!(decode_all::<T>(&bytes[..cut]), Ok(v.clone()));
    }
    Ok(())
}

macro_rules! round_trips {
    ($($name:ident: $strategy:ident;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]
            $(
                #[test]
                fn $name(v in common::$strategy()) {
                    round_trip(&v)?;
                }
            )*
        }
    };
}

round_trips! {
    id: id;
    acl: acl;
    stat: stat;
    stat_persisted: stat_persisted;
    client_info: client_info;
    connect_request: connect_request;
    connect_response: connect_response;
    request_header: request_header;
    reply_header: reply_header;
    multi_header: multi_header;
    auth_packet: auth_packet;
    watcher_event: watcher_event;
    set_watches: set_watches;
    set_watches2: set_watches2;
    add_watch_request: add_watch;
    path_watch_request: path_watch;
    path_request: path;
    get_data_response: get_data_response;
    stat_response: stat_response;
    set_data_request: set_data;
    create_request: create;
    create_ttl_request: create_ttl;
    create_response: create_response;
    create2_response: create2_response;
    delete_request: delete;
    check_version_request: check;
    get_children_response: children;
    get_children2_response: children2;
    get_all_children_number_response: all_children_number;
    get_acl_response: get_acl_response;
    set_acl_request: set_acl;
    remove_watches_request: remove_watches;
    get_ephemerals_response: ephemerals;
    who_am_i_response: who_am_i;
    error_response: error_response;
    reconfig_request: reconfig;
    sasl_token: sasl;
    txn_header: txn_header;
    txn_digest: txn_digest;
    create_txn_v0: create_txn_v0;
    create_txn: create_txn;
    create_ttl_txn: create_ttl_txn;
    create_container_txn: create_container_txn;
    delete_txn: delete_txn;
    set_data_txn: set_data_txn;
    check_version_txn: check_txn;
    set_acl_txn: set_acl_txn;
    set_max_children_txn: set_max_children_txn;
    create_session_txn: create_session_txn;
    close_session_txn: close_session_txn;
    error_txn: error_txn;
    txn: txn;
    multi_txn: multi_txn;
    quorum_packet: quorum_packet;
    learner_info: learner_info;
    quorum_auth_packet: quorum_auth_packet;
    election_hello: election_hello;
    notification: notification;
    file_header: file_header;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every request variant, multi and multiRead included, by its opcode.
    #[test]
    fn request(r in common::request()) {
        let mut b = BytesMut::new();
        r.encode(&mut b);
        prop_assert_eq!(Request::decode(r.opcode().code(), &b), Ok(r.clone()));
        // Requests with a body must reject every truncation of it.
        for cut in 0..b.len() {
            prop_assert_ne!(Request::decode(r.opcode().code(), &b[..cut]), Ok(r.clone()));
        }
    }

    /// Multi / multiRead reply bodies.
    #[test]
    fn multi_results(rs in proptest::collection::vec(common::multi_result(), 0..6)) {
        let mut b = BytesMut::new();
        encode_multi_results(&rs, &mut b);
        prop_assert_eq!(decode_multi_results(&b), Ok(rs.clone()));
        for cut in 0..b.len() {
            prop_assert!(decode_multi_results(&b[..cut]).is_err());
        }
    }

    /// Whole txn entries: every body type (multi included), with and without a digest.
    #[test]
    fn txn_entry(e in common::txn_entry()) {
        let mut b = BytesMut::new();
        e.encode(&mut b);
        prop_assert_eq!(TxnEntry::decode_complete(&b), Ok(e.clone()));
        let mut again = BytesMut::new();
        TxnEntry::decode_complete(&b).unwrap().encode(&mut again);
        prop_assert_eq!(&again[..], &b[..]);
    }

    /// Framed log records carry the entry and a checksum that verifies.
    #[test]
    fn log_record(e in common::txn_entry()) {
        let mut entry = BytesMut::new();
        e.encode(&mut entry);
        let mut b = BytesMut::new();
        jute::file::LogRecord::put(&mut b, &entry);
        let (rest, rec) = jute::file::LogRecord::decode(&b, jute::Limits::default()).unwrap();
        prop_assert!(rest.is_empty());
        let rec = rec.unwrap();
        prop_assert!(rec.checksum_ok());
        prop_assert_eq!(rec.checksum, adler::adler32_slice(&entry) as i64);
        prop_assert_eq!(TxnEntry::decode_complete(rec.entry), Ok(e));
    }
}
