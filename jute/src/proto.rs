//! Records of module `org.apache.zookeeper.proto`: the client protocol.

use crate::codec::Codec;
use crate::data::{Acl, ClientInfo, Stat};
use crate::error::JResult;
use crate::record;
use bytes::{Bytes, BytesMut};

/// The optional trailing `readOnly` byte of the handshake records: present in 3.4+
/// clients' requests, and echoed in the response only if the request carried it.
fn trailing_bool(i: &[u8]) -> (&[u8], Option<bool>) {
    match i.split_first() {
        Some((b, rest)) => (rest, Some(*b != 0)),
        None => (i, None),
    }
}

/// First frame of a session: sent bare, without a RequestHeader.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    pub timeout: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    /// The optional trailing byte; `None` when an old client did not send it, in which case
    /// the reply must omit it too.
    pub read_only: Option<bool>,
}

impl Codec for ConnectRequest {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, protocol_version) = i32::decode(i)?;
        let (i, last_zxid_seen) = i64::decode(i)?;
        let (i, timeout) = i32::decode(i)?;
        let (i, session_id) = i64::decode(i)?;
        let (i, passwd) = Bytes::decode(i)?;
        let (i, read_only) = trailing_bool(i);
        Ok((
            i,
            ConnectRequest {
                protocol_version,
                last_zxid_seen,
                timeout,
                session_id,
                passwd,
                read_only,
            },
        ))
    }
    fn encode(&self, out: &mut BytesMut) {
        self.protocol_version.encode(out);
        self.last_zxid_seen.encode(out);
        self.timeout.encode(out);
        self.session_id.encode(out);
        self.passwd.encode(out);
        if let Some(ro) = self.read_only {
            ro.encode(out);
        }
    }
}

/// The server's answer to a ConnectRequest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    pub timeout: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    /// Present iff the request carried the readOnly byte.
    pub read_only: Option<bool>,
}

impl Codec for ConnectResponse {
    fn decode(i: &[u8]) -> JResult<'_, Self> {
        let (i, protocol_version) = i32::decode(i)?;
        let (i, timeout) = i32::decode(i)?;
        let (i, session_id) = i64::decode(i)?;
        let (i, passwd) = Bytes::decode(i)?;
        let (i, read_only) = trailing_bool(i);
        Ok((
            i,
            ConnectResponse {
                protocol_version,
                timeout,
                session_id,
                passwd,
                read_only,
            },
        ))
    }
    fn encode(&self, out: &mut BytesMut) {
        self.protocol_version.encode(out);
        self.timeout.encode(out);
        self.session_id.encode(out);
        self.passwd.encode(out);
        if let Some(ro) = self.read_only {
            ro.encode(out);
        }
    }
}

record! {
    /// Precedes every request after the handshake.
    pub struct RequestHeader { pub xid: i32, pub op: i32 }
}
record! {
    /// Precedes every reply and notification.
    pub struct ReplyHeader { pub xid: i32, pub zxid: i64, pub err: i32 }
}
record! {
    /// Precedes each op and each result inside a multi.
    pub struct MultiHeader { pub op: i32, pub done: bool, pub err: i32 }
}
record! {
    /// `addauth`: scheme and credentials (the `kind` field is ignored by servers).
    pub struct AuthPacket { pub kind: i32, pub scheme: String, pub auth: Bytes }
}
record! {
    /// A watch notification (sent with xid -1).
    pub struct WatcherEvent { pub kind: i32, pub state: i32, pub path: String }
}

impl WatcherEvent {
    /// Encodes a notification from borrowed parts, the same bytes as [`Codec::encode`]
    /// of the record: a fan-out writes one per watcher, and this needs no owned path.
    pub fn encode_parts(kind: i32, state: i32, path: &str, out: &mut BytesMut) {
        use bytes::BufMut;
        out.put_i32(kind);
        out.put_i32(state);
        out.put_i32(path.len() as i32);
        out.put_slice(path.as_bytes());
    }
}

record! {
    /// Watches re-registered on reconnect (opcode 101).
    pub struct SetWatches {
        pub relative_zxid: i64, pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>, pub child_watches: Vec<String>,
    }
}
record! {
    /// Watches re-registered on reconnect including persistent ones (opcode 105).
    pub struct SetWatches2 {
        pub relative_zxid: i64, pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>, pub child_watches: Vec<String>,
        pub persistent_watches: Vec<String>, pub persistent_recursive_watches: Vec<String>,
    }
}
record! {
    /// addWatch (opcode 106).
    pub struct AddWatchRequest { pub path: String, pub mode: i32 }
}
record! {
    /// getData / exists / getChildren / getChildren2: a path and a watch flag.
    pub struct PathWatchRequest { pub path: String, pub watch: bool }
}
record! {
    /// A request that is only a path (getACL, sync, getAllChildrenNumber, getEphemerals).
    pub struct PathRequest { pub path: String }
}
record! {
    /// getData reply.
    pub struct GetDataResponse { pub data: Option<Bytes>, pub stat: Stat }
}
record! {
    /// A reply that is only a Stat (exists, setData, setACL).
    pub struct StatResponse { pub stat: Stat }
}
record! {
    /// setData.
    pub struct SetDataRequest { pub path: String, pub data: Option<Bytes>, pub version: i32 }
}
record! {
    /// create / create2 / createContainer.
    pub struct CreateRequest { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub flags: i32 }
}
record! {
    /// createTTL.
    pub struct CreateTtlRequest {
        pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub flags: i32, pub ttl: i64,
    }
}
record! {
    /// create reply (opcode 1): the created path, with its sequence suffix.
    pub struct CreateResponse { pub path: String }
}
record! {
    /// create2 / createContainer / createTTL reply.
    pub struct Create2Response { pub path: String, pub stat: Stat }
}
record! {
    /// delete.
    pub struct DeleteRequest { pub path: String, pub version: i32 }
}
record! {
    /// check (only inside multi).
    pub struct CheckVersionRequest { pub path: String, pub version: i32 }
}
record! {
    /// getChildren reply.
    pub struct GetChildrenResponse { pub children: Vec<String> }
}
record! {
    /// getChildren2 reply.
    pub struct GetChildren2Response { pub children: Vec<String>, pub stat: Stat }
}
record! {
    /// getAllChildrenNumber reply.
    pub struct GetAllChildrenNumberResponse { pub total_number: i32 }
}
record! {
    /// getACL reply.
    pub struct GetAclResponse { pub acl: Vec<Acl>, pub stat: Stat }
}
record! {
    /// setACL.
    pub struct SetAclRequest { pub path: String, pub acl: Vec<Acl>, pub version: i32 }
}
record! {
    /// checkWatches / removeWatches.
    pub struct RemoveWatchesRequest { pub path: String, pub kind: i32 }
}
record! {
    /// getEphemerals reply.
    pub struct GetEphemeralsResponse { pub ephemerals: Vec<String> }
}
record! {
    /// whoAmI reply.
    pub struct WhoAmIResponse { pub client_info: Vec<ClientInfo> }
}
record! {
    /// The body of an error result inside a multi, and of the addWatch reply.
    pub struct ErrorResponse { pub err: i32 }
}
record! {
    /// reconfig (opcode 16).
    pub struct ReconfigRequest {
        pub joining_servers: Option<String>, pub leaving_servers: Option<String>,
        pub new_members: Option<String>, pub cur_config_id: i64,
    }
}
record! {
    /// SASL token exchange (opcode 102), request and reply.
    pub struct SaslToken { pub token: Option<Bytes> }
}

/// getACL/sync/getAllChildrenNumber/getEphemerals/deleteContainer requests all carry only a
/// path; named aliases keep call sites readable.
pub type GetAclRequest = PathRequest;
/// sync request and reply.
pub type SyncRequest = PathRequest;
/// sync reply.
pub type SyncResponse = PathRequest;
/// getEphemerals request.
pub type GetEphemeralsRequest = PathRequest;
/// getAllChildrenNumber request.
pub type GetAllChildrenNumberRequest = PathRequest;
/// deleteContainer request (a buffer holding the path's UTF-8: the same bytes as a ustring).
pub type DeleteContainerRequest = PathRequest;
/// getData request.
pub type GetDataRequest = PathWatchRequest;
/// exists request.
pub type ExistsRequest = PathWatchRequest;
/// getChildren / getChildren2 request.
pub type GetChildrenRequest = PathWatchRequest;
/// getChildren2 request.
pub type GetChildren2Request = PathWatchRequest;
/// exists reply.
pub type ExistsResponse = StatResponse;
/// setData reply.
pub type SetDataResponse = StatResponse;
/// setACL reply.
pub type SetAclResponse = StatResponse;
/// checkWatches request (same record as removeWatches).
pub type CheckWatchesRequest = RemoveWatchesRequest;
/// SASL request (opcode 102).
pub type GetSaslRequest = SaslToken;
/// SASL request as some clients name it.
pub type SetSaslRequest = SaslToken;
/// SASL reply.
pub type SetSaslResponse = SaslToken;
/// reconfig reply: the new config as data, with the config node's Stat.
pub type ReconfigResponse = GetDataResponse;

#[cfg(test)]
mod watcher_event_tests {
    use super::*;

    #[test]
    fn encode_parts_matches_the_record() {
        let ev = WatcherEvent {
            kind: 3,
            state: 3,
            path: "/a/ü".into(),
        };
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        ev.encode(&mut a);
        WatcherEvent::encode_parts(3, 3, "/a/ü", &mut b);
        assert_eq!(a, b);
    }
}
