//! proptest strategies for every jute record, shared by the round-trip and fuzz-smoke tests.
#![allow(dead_code)]

use bytes::Bytes;
use jute::consts::OpCode;
use jute::data::*;
use jute::file::FileHeader;
use jute::proto::*;
use jute::quorum::*;
use jute::txn::*;
use jute::{MultiOp, MultiResult, Request};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

/// Builds a record from a tuple of field strategies: `rec!(T { a: s1, b: s2 })`.
macro_rules! rec {
    ($t:ident { $($f:ident : $s:expr),* $(,)? }) => {
        ($($s,)*).prop_map(|($($f,)*)| $t { $($f),* })
    };
}

/// Short strings, including multi-byte and non-BMP characters.
pub fn s() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z/._-]{0,12}",
        "\\PC{0,8}",
        Just(String::new()),
        Just("/zookeeper/config".to_string()),
    ]
}
/// Nullable strings.
pub fn os() -> impl Strategy<Value = Option<String>> {
    of(s())
}
/// Byte buffers: mostly short, some around `jute::codec::SHARE_MIN`, the size from which
/// values decoded through `decode_sharing` are slices of their frame.
pub fn b() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        7 => vec(any::<u8>(), 0..40),
        1 => vec(any::<u8>(), 1020..1030),
    ]
    .prop_map(Bytes::from)
}
/// Nullable byte buffers (null is distinct from empty).
pub fn ob() -> impl Strategy<Value = Option<Bytes>> {
    of(b())
}
/// Short string lists.
pub fn ss() -> impl Strategy<Value = Vec<String>> {
    vec(s(), 0..4)
}

pub fn id() -> impl Strategy<Value = Id> {
    rec!(Id {
        scheme: s(),
        id: s()
    })
}
pub fn acl() -> impl Strategy<Value = Acl> {
    rec!(Acl {
        perms: any::<i32>(),
        id: id()
    })
}
pub fn acls() -> impl Strategy<Value = Vec<Acl>> {
    vec(acl(), 0..3)
}
pub fn stat() -> impl Strategy<Value = Stat> {
    let i = any::<i32>;
    let l = any::<i64>;
    rec!(Stat {
        czxid: l(),
        mzxid: l(),
        ctime: l(),
        mtime: l(),
        version: i(),
        cversion: i(),
        aversion: i(),
        ephemeral_owner: l(),
        data_length: i(),
        num_children: i(),
        pzxid: l(),
    })
}
pub fn stat_persisted() -> impl Strategy<Value = StatPersisted> {
    let i = any::<i32>;
    let l = any::<i64>;
    rec!(StatPersisted {
        czxid: l(),
        mzxid: l(),
        ctime: l(),
        mtime: l(),
        version: i(),
        cversion: i(),
        aversion: i(),
        ephemeral_owner: l(),
        pzxid: l(),
    })
}
pub fn client_info() -> impl Strategy<Value = ClientInfo> {
    rec!(ClientInfo {
        auth_scheme: s(),
        user: s()
    })
}

// ---- org.apache.zookeeper.proto ----

pub fn connect_request() -> impl Strategy<Value = ConnectRequest> {
    rec!(ConnectRequest {
        protocol_version: any::<i32>(),
        last_zxid_seen: any::<i64>(),
        timeout: any::<i32>(),
        session_id: any::<i64>(),
        passwd: b(),
        read_only: of(any::<bool>()),
    })
}
pub fn connect_response() -> impl Strategy<Value = ConnectResponse> {
    rec!(ConnectResponse {
        protocol_version: any::<i32>(),
        timeout: any::<i32>(),
        session_id: any::<i64>(),
        passwd: b(),
        read_only: of(any::<bool>()),
    })
}
pub fn request_header() -> impl Strategy<Value = RequestHeader> {
    rec!(RequestHeader {
        xid: any::<i32>(),
        op: any::<i32>()
    })
}
pub fn reply_header() -> impl Strategy<Value = ReplyHeader> {
    rec!(ReplyHeader {
        xid: any::<i32>(),
        zxid: any::<i64>(),
        err: any::<i32>()
    })
}
pub fn multi_header() -> impl Strategy<Value = MultiHeader> {
    rec!(MultiHeader {
        op: any::<i32>(),
        done: any::<bool>(),
        err: any::<i32>()
    })
}
pub fn auth_packet() -> impl Strategy<Value = AuthPacket> {
    rec!(AuthPacket {
        kind: any::<i32>(),
        scheme: s(),
        auth: b()
    })
}
pub fn watcher_event() -> impl Strategy<Value = WatcherEvent> {
    rec!(WatcherEvent {
        kind: any::<i32>(),
        state: any::<i32>(),
        path: s()
    })
}
pub fn set_watches() -> impl Strategy<Value = SetWatches> {
    rec!(SetWatches {
        relative_zxid: any::<i64>(),
        data_watches: ss(),
        exist_watches: ss(),
        child_watches: ss(),
    })
}
pub fn set_watches2() -> impl Strategy<Value = SetWatches2> {
    rec!(SetWatches2 {
        relative_zxid: any::<i64>(),
        data_watches: ss(),
        exist_watches: ss(),
        child_watches: ss(),
        persistent_watches: ss(),
        persistent_recursive_watches: ss(),
    })
}
pub fn add_watch() -> impl Strategy<Value = AddWatchRequest> {
    rec!(AddWatchRequest {
        path: s(),
        mode: any::<i32>()
    })
}
pub fn path_watch() -> impl Strategy<Value = PathWatchRequest> {
    rec!(PathWatchRequest {
        path: s(),
        watch: any::<bool>()
    })
}
pub fn path() -> impl Strategy<Value = PathRequest> {
    rec!(PathRequest { path: s() })
}
pub fn get_data_response() -> impl Strategy<Value = GetDataResponse> {
    rec!(GetDataResponse {
        data: ob(),
        stat: stat()
    })
}
pub fn stat_response() -> impl Strategy<Value = StatResponse> {
    rec!(StatResponse { stat: stat() })
}
pub fn set_data() -> impl Strategy<Value = SetDataRequest> {
    rec!(SetDataRequest {
        path: s(),
        data: ob(),
        version: any::<i32>()
    })
}
pub fn create() -> impl Strategy<Value = CreateRequest> {
    rec!(CreateRequest {
        path: s(),
        data: ob(),
        acl: acls(),
        flags: any::<i32>()
    })
}
pub fn create_ttl() -> impl Strategy<Value = CreateTtlRequest> {
    rec!(CreateTtlRequest {
        path: s(),
        data: ob(),
        acl: acls(),
        flags: any::<i32>(),
        ttl: any::<i64>(),
    })
}
pub fn create_response() -> impl Strategy<Value = CreateResponse> {
    rec!(CreateResponse { path: s() })
}
pub fn create2_response() -> impl Strategy<Value = Create2Response> {
    rec!(Create2Response {
        path: s(),
        stat: stat()
    })
}
pub fn delete() -> impl Strategy<Value = DeleteRequest> {
    rec!(DeleteRequest {
        path: s(),
        version: any::<i32>()
    })
}
pub fn check() -> impl Strategy<Value = CheckVersionRequest> {
    rec!(CheckVersionRequest {
        path: s(),
        version: any::<i32>()
    })
}
pub fn children() -> impl Strategy<Value = GetChildrenResponse> {
    rec!(GetChildrenResponse { children: ss() })
}
pub fn children2() -> impl Strategy<Value = GetChildren2Response> {
    rec!(GetChildren2Response {
        children: ss(),
        stat: stat()
    })
}
pub fn all_children_number() -> impl Strategy<Value = GetAllChildrenNumberResponse> {
    rec!(GetAllChildrenNumberResponse {
        total_number: any::<i32>()
    })
}
pub fn get_acl_response() -> impl Strategy<Value = GetAclResponse> {
    rec!(GetAclResponse {
        acl: acls(),
        stat: stat()
    })
}
pub fn set_acl() -> impl Strategy<Value = SetAclRequest> {
    rec!(SetAclRequest {
        path: s(),
        acl: acls(),
        version: any::<i32>()
    })
}
pub fn remove_watches() -> impl Strategy<Value = RemoveWatchesRequest> {
    rec!(RemoveWatchesRequest {
        path: s(),
        kind: any::<i32>()
    })
}
pub fn ephemerals() -> impl Strategy<Value = GetEphemeralsResponse> {
    rec!(GetEphemeralsResponse { ephemerals: ss() })
}
pub fn who_am_i() -> impl Strategy<Value = WhoAmIResponse> {
    rec!(WhoAmIResponse {
        client_info: vec(client_info(), 0..3)
    })
}
pub fn error_response() -> impl Strategy<Value = ErrorResponse> {
    rec!(ErrorResponse { err: any::<i32>() })
}
pub fn reconfig() -> impl Strategy<Value = ReconfigRequest> {
    rec!(ReconfigRequest {
        joining_servers: os(),
        leaving_servers: os(),
        new_members: os(),
        cur_config_id: any::<i64>(),
    })
}
pub fn sasl() -> impl Strategy<Value = SaslToken> {
    rec!(SaslToken { token: ob() })
}

/// One op of a multi (writes).
pub fn multi_write_op() -> impl Strategy<Value = MultiOp> {
    let create_op = prop_oneof![
        Just(OpCode::Create),
        Just(OpCode::Create2),
        Just(OpCode::CreateContainer)
    ];
    prop_oneof![
        (create_op, create()).prop_map(|(op, r)| MultiOp::Create(op, r)),
        create_ttl().prop_map(MultiOp::CreateTtl),
        delete().prop_map(MultiOp::Delete),
        set_data().prop_map(MultiOp::SetData),
        check().prop_map(MultiOp::Check),
    ]
}
/// One op of a multiRead.
pub fn multi_read_op() -> impl Strategy<Value = MultiOp> {
    prop_oneof![
        path_watch().prop_map(MultiOp::GetChildren),
        path_watch().prop_map(MultiOp::GetData),
    ]
}

/// Every request variant.
pub fn request() -> impl Strategy<Value = Request> {
    let create_op = prop_oneof![
        Just(OpCode::Create),
        Just(OpCode::Create2),
        Just(OpCode::CreateContainer)
    ];
    prop_oneof![
        (create_op, create()).prop_map(|(op, r)| Request::Create(op, r)),
        create_ttl().prop_map(Request::CreateTtl),
        delete().prop_map(Request::Delete),
        path_watch().prop_map(Request::Exists),
        path_watch().prop_map(Request::GetData),
        set_data().prop_map(Request::SetData),
        path().prop_map(Request::GetAcl),
        set_acl().prop_map(Request::SetAcl),
        path_watch().prop_map(Request::GetChildren),
        path_watch().prop_map(Request::GetChildren2),
        path().prop_map(Request::Sync),
        Just(Request::Ping),
        vec(multi_write_op(), 0..4).prop_map(Request::Multi),
        vec(multi_read_op(), 0..4).prop_map(Request::MultiRead),
        reconfig().prop_map(Request::Reconfig),
        remove_watches().prop_map(Request::CheckWatches),
        remove_watches().prop_map(Request::RemoveWatches),
        path().prop_map(Request::DeleteContainer),
        auth_packet().prop_map(Request::Auth),
        set_watches().prop_map(Request::SetWatches),
        set_watches2().prop_map(Request::SetWatches2),
        sasl().prop_map(Request::Sasl),
        path().prop_map(Request::GetEphemerals),
        path().prop_map(Request::GetAllChildrenNumber),
        add_watch().prop_map(Request::AddWatch),
        Just(Request::WhoAmI),
        Just(Request::CloseSession),
    ]
}

/// Every multi / multiRead result variant.
pub fn multi_result() -> impl Strategy<Value = MultiResult> {
    prop_oneof![
        create_response().prop_map(MultiResult::Create),
        create2_response().prop_map(MultiResult::Create2),
        Just(MultiResult::Delete),
        stat_response().prop_map(MultiResult::SetData),
        Just(MultiResult::Check),
        children().prop_map(MultiResult::GetChildren),
        get_data_response().prop_map(MultiResult::GetData),
        any::<i32>().prop_map(MultiResult::Error),
    ]
}

// ---- org.apache.zookeeper.txn ----

pub fn txn_header() -> impl Strategy<Value = TxnHeader> {
    rec!(TxnHeader {
        client_id: any::<i64>(),
        cxid: any::<i32>(),
        zxid: any::<i64>(),
        time: any::<i64>(),
        kind: any::<i32>(),
    })
}
pub fn txn_digest() -> impl Strategy<Value = TxnDigest> {
    rec!(TxnDigest {
        version: any::<i32>(),
        tree_digest: any::<i64>()
    })
}
pub fn create_txn_v0() -> impl Strategy<Value = CreateTxnV0> {
    rec!(CreateTxnV0 {
        path: s(),
        data: ob(),
        acl: acls(),
        ephemeral: any::<bool>()
    })
}
pub fn create_txn() -> impl Strategy<Value = CreateTxn> {
    rec!(CreateTxn {
        path: s(),
        data: ob(),
        acl: acls(),
        ephemeral: any::<bool>(),
        parent_cversion: any::<i32>(),
    })
}
pub fn create_ttl_txn() -> impl Strategy<Value = CreateTtlTxn> {
    rec!(CreateTtlTxn {
        path: s(),
        data: ob(),
        acl: acls(),
        parent_cversion: any::<i32>(),
        ttl: any::<i64>(),
    })
}
pub fn create_container_txn() -> impl Strategy<Value = CreateContainerTxn> {
    rec!(CreateContainerTxn {
        path: s(),
        data: ob(),
        acl: acls(),
        parent_cversion: any::<i32>()
    })
}
pub fn delete_txn() -> impl Strategy<Value = DeleteTxn> {
    rec!(DeleteTxn { path: s() })
}
pub fn set_data_txn() -> impl Strategy<Value = SetDataTxn> {
    rec!(SetDataTxn {
        path: s(),
        data: ob(),
        version: any::<i32>()
    })
}
pub fn check_txn() -> impl Strategy<Value = CheckVersionTxn> {
    rec!(CheckVersionTxn {
        path: s(),
        version: any::<i32>()
    })
}
pub fn set_acl_txn() -> impl Strategy<Value = SetAclTxn> {
    rec!(SetAclTxn {
        path: s(),
        acl: acls(),
        version: any::<i32>()
    })
}
pub fn set_max_children_txn() -> impl Strategy<Value = SetMaxChildrenTxn> {
    rec!(SetMaxChildrenTxn {
        path: s(),
        max: any::<i32>()
    })
}
pub fn create_session_txn() -> impl Strategy<Value = CreateSessionTxn> {
    rec!(CreateSessionTxn {
        timeout: any::<i32>()
    })
}
pub fn close_session_txn() -> impl Strategy<Value = CloseSessionTxn> {
    rec!(CloseSessionTxn {
        paths_to_delete: ss()
    })
}
pub fn error_txn() -> impl Strategy<Value = ErrorTxn> {
    rec!(ErrorTxn { err: any::<i32>() })
}
pub fn txn() -> impl Strategy<Value = Txn> {
    rec!(Txn {
        kind: any::<i32>(),
        data: b()
    })
}
pub fn multi_txn() -> impl Strategy<Value = MultiTxn> {
    rec!(MultiTxn {
        txns: vec(txn(), 0..3)
    })
}

/// A sub-txn of a multi, with a type Java allows there (1/15/21/19/2/20/5/13/-1).
pub fn sub_txn() -> impl Strategy<Value = TxnBodyOf> {
    let k = |kinds: &'static [OpCode]| proptest::sample::select(kinds).prop_map(|o| o.code());
    prop_oneof![
        (
            k(&[OpCode::Create, OpCode::Create2]),
            create_txn().prop_map(TxnBody::Create)
        ),
        (
            k(&[OpCode::Create]),
            create_txn_v0().prop_map(TxnBody::CreateV0)
        ),
        (
            k(&[OpCode::CreateTtl]),
            create_ttl_txn().prop_map(TxnBody::CreateTtl)
        ),
        (
            k(&[OpCode::CreateContainer]),
            create_container_txn().prop_map(TxnBody::CreateContainer)
        ),
        (
            k(&[OpCode::Delete, OpCode::DeleteContainer]),
            delete_txn().prop_map(TxnBody::Delete)
        ),
        (
            k(&[OpCode::SetData]),
            set_data_txn().prop_map(TxnBody::SetData)
        ),
        (k(&[OpCode::Check]), check_txn().prop_map(TxnBody::Check)),
        (k(&[OpCode::Error]), error_txn().prop_map(TxnBody::Error)),
    ]
    .prop_map(|(kind, body)| TxnBodyOf { kind, body })
}

/// A whole txn entry: every TxnBody variant a log can hold, with a matching header type.
/// (SetMaxChildren has no opcode in 3.8 and cannot appear in an entry.)
pub fn txn_entry() -> impl Strategy<Value = TxnEntry> {
    let k = |kinds: &'static [OpCode]| proptest::sample::select(kinds).prop_map(|o| o.code());
    let with_digest = prop_oneof![
        (
            k(&[OpCode::Create, OpCode::Create2]),
            create_txn().prop_map(TxnBody::Create)
        ),
        (
            k(&[OpCode::CreateTtl]),
            create_ttl_txn().prop_map(TxnBody::CreateTtl)
        ),
        (
            k(&[OpCode::CreateContainer]),
            create_container_txn().prop_map(TxnBody::CreateContainer)
        ),
        (
            k(&[OpCode::Delete, OpCode::DeleteContainer]),
            delete_txn().prop_map(TxnBody::Delete)
        ),
        (
            k(&[OpCode::SetData, OpCode::Reconfig]),
            set_data_txn().prop_map(TxnBody::SetData)
        ),
        (
            k(&[OpCode::SetAcl]),
            set_acl_txn().prop_map(TxnBody::SetAcl)
        ),
        (k(&[OpCode::Check]), check_txn().prop_map(TxnBody::Check)),
        (
            k(&[OpCode::Multi]),
            vec(sub_txn(), 0..4).prop_map(TxnBody::Multi)
        ),
        (
            k(&[OpCode::CreateSession]),
            create_session_txn().prop_map(TxnBody::CreateSession)
        ),
        (
            k(&[OpCode::CloseSession]),
            of(close_session_txn()).prop_map(TxnBody::CloseSession)
        ),
        (k(&[OpCode::Error]), error_txn().prop_map(TxnBody::Error)),
    ];
    let entry =
        (txn_header(), with_digest, of(txn_digest())).prop_map(|(mut h, (kind, body), digest)| {
            h.kind = kind;
            TxnEntry {
                header: h,
                body,
                digest,
            }
        });
    // A legacy create has no parentCVersion and so (as in Java) cannot carry a digest.
    let v0 = (txn_header(), create_txn_v0()).prop_map(|(mut h, t)| {
        h.kind = OpCode::Create.code();
        TxnEntry {
            header: h,
            body: TxnBody::CreateV0(t),
            digest: None,
        }
    });
    prop_oneof![9 => entry, 1 => v0]
}

// ---- quorum and files ----

pub fn quorum_packet() -> impl Strategy<Value = QuorumPacket> {
    rec!(QuorumPacket {
        kind: any::<i32>(),
        zxid: any::<i64>(),
        data: ob(),
        authinfo: of(vec(id(), 0..3)),
    })
}
pub fn learner_info() -> impl Strategy<Value = LearnerInfo> {
    rec!(LearnerInfo {
        server_id: any::<i64>(),
        protocol_version: any::<i32>(),
        config_version: any::<i64>()
    })
}
pub fn quorum_auth_packet() -> impl Strategy<Value = QuorumAuthPacket> {
    rec!(QuorumAuthPacket {
        magic: any::<i64>(),
        status: any::<i32>(),
        token: ob()
    })
}
pub fn election_hello() -> impl Strategy<Value = ElectionHello> {
    prop_oneof![
        (0..=i64::MAX).prop_map(|sid| ElectionHello::Bare { sid }),
        (
            prop_oneof![Just(ELECTION_PROTOCOL_V1), Just(ELECTION_PROTOCOL_V2)],
            any::<i64>(),
            "[a-z0-9.:|]{1,40}"
        )
            .prop_map(|(protocol, sid, addr)| ElectionHello::Versioned {
                protocol,
                sid,
                addr
            }),
    ]
}
/// The 28-, 40-, 44- and 44+n-byte notification forms.
pub fn notification() -> impl Strategy<Value = Notification> {
    let base = (
        any::<i32>(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
    );
    let form = prop_oneof![
        Just((false, None)),
        (i32::MIN..=1).prop_map(|v| (true, Some(v))),
        (2..=i32::MAX).prop_map(|v| (true, Some(v))),
    ];
    (base, form, b()).prop_map(
        |((state, leader, zxid, election_epoch, pe), (has_pe, version), cfg)| {
            let config = if matches!(version, Some(v) if v > 1) {
                cfg
            } else {
                Bytes::new()
            };
            Notification {
                state,
                leader,
                zxid,
                election_epoch,
                peer_epoch: has_pe.then_some(pe),
                version,
                config,
            }
        },
    )
}
pub fn file_header() -> impl Strategy<Value = FileHeader> {
    rec!(FileHeader {
        magic: any::<i32>(),
        version: any::<i32>(),
        dbid: any::<i64>()
    })
}
