"""ACLs and authentication: world, digest, ip, auth scheme, super, masking,
InvalidACL / NoAuth / AuthFailed.  super:secret is configured via the
zookeeper.DigestAuthenticationProvider.superDigest property in the harness."""
import pytest
from kazoo.exceptions import AuthFailedError, InvalidACLError, NoAuthError
from kazoo.security import ACL, Id, make_digest_acl, make_digest_acl_credential


ALICE = make_digest_acl_credential("alice", "pw")   # "alice:<base64 sha1>"


def test_digest_credential_format():
    assert make_digest_acl_credential("super", "secret") == "super:lK75jTNcA+U9vtVEw5vB51mj/w4="


def test_digest_acl(kazoo_factory, target, base):
    alice = kazoo_factory(target, auth_data=[("digest", "alice:pw")])
    anon = kazoo_factory(target)
    bob = kazoo_factory(target, auth_data=[("digest", "bob:pw")])
    p = alice.create(base + "/secret", b"s", acl=[make_digest_acl("alice", "pw", all=True)])
    assert alice.get(p)[0] == b"s"
    for c in (anon, bob):
        with pytest.raises(NoAuthError):
            c.get(p)
        with pytest.raises(NoAuthError):
            c.set(p, b"x")
        with pytest.raises(NoAuthError):
            c.create(p + "/child")
    assert sorted(anon.get_children(base)) == ["secret"]
    anon.add_auth("digest", "alice:pw")         # auth added later on the connection
    assert anon.get(p)[0] == b"s"


def test_permission_bits(kazoo_factory, target, base):
    owner = kazoo_factory(target, auth_data=[("digest", "alice:pw")])
    other = kazoo_factory(target)
    acl = [make_digest_acl("alice", "pw", all=True), ACL(1 | 4, Id("world", "anyone"))]
    p = owner.create(base + "/n", b"d", acl=acl)
    assert other.get(p)[0] == b"d"                # READ
    other.create(p + "/kid")                      # CREATE
    with pytest.raises(NoAuthError):
        other.set(p, b"x")                        # no WRITE
    with pytest.raises(NoAuthError):
        other.delete(p + "/kid")                  # DELETE is checked on the parent
    with pytest.raises(NoAuthError):
        other.set_acls(p, [ACL(31, Id("world", "anyone"))])   # no ADMIN
    # getACL without ADMIN masks digest ids
    acls, _ = other.get_acls(p)
    assert [(a.perms, a.id.scheme, a.id.id) for a in acls] == [
        (31, "digest", "alice:x"), (5, "world", "anyone")]
    acls, st = owner.get_acls(p)
    assert (acls[0].id.id, st.aversion) == (ALICE, 0)


def test_auth_scheme_acl(kazoo_factory, target, base):
    alice = kazoo_factory(target, auth_data=[("digest", "alice:pw")])
    p = alice.create(base + "/a", acl=[ACL(31, Id("auth", ""))])
    acls, _ = alice.get_acls(p)
    assert [(a.perms, a.id.scheme, a.id.id) for a in acls] == [(31, "digest", ALICE)]
    anon = kazoo_factory(target)
    with pytest.raises(InvalidACLError):          # no authenticated id to substitute
        anon.create(base + "/b", acl=[ACL(31, Id("auth", ""))])


def test_invalid_acls(raw, base):
    assert raw.create(base + "/x", acl=[]).err == -114
    assert raw.create(base + "/x", acl=[(31, "world", "someone")]).err == -114
    assert raw.create(base + "/x", acl=[(31, "super", "x")]).err == -114
    assert raw.create(base + "/x", acl=[(31, "digest", "nocolon")]).err == -114
    assert raw.create(base + "/x", acl=[(31, "ip", "not-an-ip")]).err == -114
    assert raw.create(base + "/x", acl=[(31, "nosuchscheme", "a")]).err == -114
    assert raw.create(base + "/x", acl=[(31, "auth", "")]).err == -114
    dup = [(31, "world", "anyone"), (31, "world", "anyone")]
    assert raw.create(base + "/x", acl=dup).err == 0
    assert raw.get_acl(base + "/x").value[0] == [(31, "world", "anyone")]


def test_ip_acl(raw, zk, base):
    ok = raw.create(base + "/ok", acl=[(31, "ip", "127.0.0.1")])
    assert ok.err == 0 and raw.get_data(base + "/ok").err == 0
    assert raw.create(base + "/net", acl=[(31, "ip", "127.0.0.0/8")]).err == 0
    assert raw.get_data(base + "/net").err == 0
    assert raw.create(base + "/no", acl=[(31, "ip", "10.1.2.3")]).err == 0
    assert raw.get_data(base + "/no").err == -102
    # IPv6 ACL ids: ZooKeeper 3.8.0 rejects them (-114), later 3.8.x accept them;
    # deliberately not asserted.


def test_super_user(kazoo_factory, target, base):
    alice = kazoo_factory(target, auth_data=[("digest", "alice:pw")])
    p = alice.create(base + "/locked", b"z", acl=[make_digest_acl("alice", "pw", all=True)])
    root = kazoo_factory(target, auth_data=[("digest", "super:secret")])
    assert root.get(p)[0] == b"z"
    acls, _ = root.get_acls(p)
    assert acls[0].id.id == ALICE                 # super has ADMIN: no masking
    root.set_acls(p, [ACL(31, Id("world", "anyone"))])
    assert kazoo_factory(target).get(p)[0] == b"z"


def test_whoami(raw_factory, target):
    c = raw_factory(target)
    assert c.whoami().value == [("ip", "127.0.0.1")]
    assert c.add_auth("digest", b"alice:pw") == 0
    assert c.add_auth("digest", b"super:secret") == 0
    # order is a hash-set order in ZooKeeper: compare as sets
    assert sorted(c.whoami().value) == [("digest", "alice"), ("digest", "super"),
                                        ("ip", "127.0.0.1"), ("super", "")]


def test_bad_auth_closes_connection(raw_factory, target, kazoo_factory):
    c = raw_factory(target)
    assert c.add_auth("nosuchscheme", b"x") == -115
    with pytest.raises((ConnectionError, OSError)):
        c.ping()
    with pytest.raises(AuthFailedError):
        kazoo_factory(target).add_auth("nosuchscheme", "x")


def test_exists_needs_no_read_permission(raw, kazoo_factory, target, base):
    """ZooKeeper 3.8.0 (Debian) does not check READ on exists (PROTOCOL.md 5.1
    says later versions do); kept separate so it is easy to track."""
    alice = kazoo_factory(target, auth_data=[("digest", "alice:pw")])
    p = alice.create(base + "/p", b"1", acl=[make_digest_acl("alice", "pw", all=True)])
    r = raw.exists(p)
    assert r.err == 0 and r.value.dataLength == 1


def test_watch_delivery_is_acl_filtered(raw_factory, kazoo_factory, target, base):
    alice = kazoo_factory(target, auth_data=[("digest", "alice:pw")])
    p = alice.create(base + "/priv")
    spy = raw_factory(target)
    assert spy.get_data(p, watch=True).err == 0      # registered while readable
    alice.set_acls(p, [make_digest_acl("alice", "pw", all=True)])
    alice.set(p, b"changed")                         # spy lacks READ now: dropped
    spy.ping()
    alice.set_acls(p, [ACL(31, Id("world", "anyone"))])
    alice.set(p, b"again")                           # the one-shot watch was consumed
    spy.ping()
    assert spy.events == []
