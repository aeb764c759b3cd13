//! Workload definitions: which request each op sends, and the znodes it needs first.
//!
//! Everything lives under `/rzkb`. Keyed workloads pick uniformly among `KEYS` znodes under
//! `/rzkb/k<size>` (one set per value size); `create` makes fresh znodes under a per-run
//! parent; `getchildren` lists `/rzkb/kids`, which has 1,000 children.

use bytes::{Bytes, BytesMut};
use jute::proto::{CreateRequest, PathWatchRequest, RequestHeader, SetDataRequest};
use jute::{frame::put_frame, Codec, OpCode, Request};
use rand::rngs::SmallRng;
use rand::Rng;
use std::fmt;

/// Znodes per keyed set.
pub const KEYS: usize = 1000;
/// Children of `/rzkb/kids`.
pub const KIDS: usize = 1000;

/// A request-mix workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// create of fresh persistent znodes.
    Create,
    /// setData on random keys.
    SetData,
    /// getData on random keys.
    GetData,
    /// exists on random keys.
    Exists,
    /// getChildren of a 1,000-child node.
    GetChildren,
    /// 80 % getData / 20 % setData.
    Mixed80,
    /// 95 % getData / 5 % setData.
    Mixed95,
}

impl Mix {
    /// Every request-mix workload, in table order.
    pub const ALL: [Mix; 7] = [
        Mix::Create,
        Mix::SetData,
        Mix::GetData,
        Mix::Exists,
        Mix::GetChildren,
        Mix::Mixed80,
        Mix::Mixed95,
    ];

    /// Parses a CLI name (`create`, `setdata`, `getdata`, `exists`, `getchildren`,
    /// `mixed80`, `mixed95`).
    pub fn parse(s: &str) -> Option<Mix> {
        Mix::ALL.into_iter().find(|m| m.name() == s)
    }

    /// The CLI / JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Mix::Create => "create",
            Mix::SetData => "setdata",
            Mix::GetData => "getdata",
            Mix::Exists => "exists",
            Mix::GetChildren => "getchildren",
            Mix::Mixed80 => "mixed80",
            Mix::Mixed95 => "mixed95",
        }
    }

    fn write_share(self) -> u32 {
        match self {
            Mix::Mixed80 => 20,
            Mix::Mixed95 => 5,
            _ => 0,
        }
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Path of key `i` in the set for `size`-byte values.
pub fn key_path(size: usize, i: usize) -> String {
    format!("/rzkb/k{size}/{i:05}")
}

/// Parent of the keyed set for `size`-byte values.
pub fn key_parent(size: usize) -> String {
    format!("/rzkb/k{size}")
}

/// A create request for a persistent open-ACL znode.
pub fn create_req(path: String, data: Bytes) -> Request {
    Request::Create(
        OpCode::Create,
        CreateRequest {
            path,
            data: Some(data),
            acl: jute::data::Acl::open(),
            flags: 0,
        },
    )
}

/// Encodes one whole frame with xid 0 (patched when queued).
fn template(req: &Request) -> BytesMut {
    let mut b = BytesMut::new();
    put_frame(&mut b, |o| {
        RequestHeader {
            xid: 0,
            op: req.opcode().code(),
        }
        .encode(o);
        req.encode(o);
    });
    b
}

/// Generates the frames one connection sends: pre-encoded per key where possible so the
/// client spends almost nothing per op.
pub struct OpGen {
    mix: Mix,
    get: Vec<BytesMut>,
    set: Vec<BytesMut>,
    exists: Vec<BytesMut>,
    kids: BytesMut,
    value: Bytes,
    create_prefix: String,
    seq: u64,
    rng: SmallRng,
}

impl OpGen {
    /// A generator for connection `conn` of run `run_id` with `size`-byte values.
    pub fn new(mix: Mix, size: usize, run_id: &str, conn: usize, seed: u64) -> OpGen {
        use rand::SeedableRng;
        let value = Bytes::from(vec![b'v'; size]);
        let keys = |f: &dyn Fn(String) -> Request| -> Vec<BytesMut> {
            (0..KEYS).map(|i| template(&f(key_path(size, i)))).collect()
        };
        let needs_get = matches!(mix, Mix::GetData | Mix::Mixed80 | Mix::Mixed95);
        let needs_set = matches!(mix, Mix::SetData | Mix::Mixed80 | Mix::Mixed95);
        let pw = |path| PathWatchRequest { path, watch: false };
        OpGen {
            mix,
            get: if needs_get {
                keys(&|p| Request::GetData(pw(p)))
            } else {
                Vec::new()
            },
            set: if needs_set {
                keys(&|p| {
                    Request::SetData(SetDataRequest {
                        path: p,
                        data: Some(value.clone()),
                        version: -1,
                    })
                })
            } else {
                Vec::new()
            },
            exists: if mix == Mix::Exists {
                keys(&|p| Request::Exists(pw(p)))
            } else {
                Vec::new()
            },
            kids: template(&Request::GetChildren(pw("/rzkb/kids".into()))),
            value: value.clone(),
            create_prefix: format!("/rzkb/c-{run_id}/{conn}-"),
            seq: 0,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// Parent znode the `create` workload needs for `run_id`.
    pub fn create_parent(run_id: &str) -> String {
        format!("/rzkb/c-{run_id}")
    }

    /// Appends the next op's frame (xid 0) to `out`.
    pub fn next_frame(&mut self, out: &mut BytesMut) {
        let k = self.rng.gen_range(0..KEYS);
        match self.mix {
            Mix::Create => {
                self.seq += 1;
                let req = create_req(
                    format!("{}{}", self.create_prefix, self.seq),
                    self.value.clone(),
                );
                out.extend_from_slice(&template(&req));
            }
            Mix::SetData => out.extend_from_slice(&self.set[k]),
            Mix::GetData => out.extend_from_slice(&self.get[k]),
            Mix::Exists => out.extend_from_slice(&self.exists[k]),
            Mix::GetChildren => out.extend_from_slice(&self.kids),
            Mix::Mixed80 | Mix::Mixed95 => {
                if self.rng.gen_range(0..100) < self.mix.write_share() {
                    out.extend_from_slice(&self.set[k])
                } else {
                    out.extend_from_slice(&self.get[k])
                }
            }
        }
    }
}
