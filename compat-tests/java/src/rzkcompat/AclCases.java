// ACL and auth cases: digest addAuthInfo, CREATOR_ALL_ACL ownership, NoAuth for other
// sessions, InvalidACL for unusable ACL lists, per-permission checks, getACL output, and
// whoAmI before/after authentication.
package rzkcompat;

import static org.apache.zookeeper.KeeperException.Code.*;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

final class AclCases {
    private AclCases() {}

    static final byte[] A = "a".getBytes();

    static void register() {
        Main.add("acl_digest", AclCases::digest);
        Main.add("acl_invalid", AclCases::invalid);
        Main.add("acl_perms", AclCases::perms);
        Main.add("who_am_i", AclCases::whoAmI);
    }

    /** digest ACL id for "user:password": user + ":" + base64(sha1(user:password)). */
    static String digestId(String userPw) throws Exception {
        byte[] h = MessageDigest.getInstance("SHA1").digest(userPw.getBytes("UTF-8"));
        return userPw.substring(0, userPw.indexOf(':')) + ":" + Base64.getEncoder().encodeToString(h);
    }

    static void digest(Ctx c) throws Exception {
        Check.eq("digest vector", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=", digestId("user:password"));
        ZooKeeper own = c.open(), anon = c.open(), wrong = c.open(), same = c.open();
        own.addAuthInfo("digest", "alice:secret".getBytes());
        wrong.addAuthInfo("digest", "alice:nope".getBytes());
        same.addAuthInfo("digest", "alice:secret".getBytes());
        String p = c.p("priv");
        own.create(p, A, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        Stat st = new Stat();
        List<ACL> acl = own.getACL(p, st);
        Check.eq("stored acl", Collections.singletonList(
                new ACL(Perms.ALL, new Id("digest", digestId("alice:secret")))), acl);
        Check.eq("aversion", 0, st.getAversion());
        Check.eq("owner reads", A, own.getData(p, false, null));
        Check.code("anon read", NOAUTH, () -> anon.getData(p, false, null));
        Check.code("anon write", NOAUTH, () -> anon.setData(p, A, -1));
        Check.code("anon create child", NOAUTH, () -> anon.create(p + "/k", A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        Check.code("anon getACL", NOAUTH, () -> anon.getACL(p, null));
        Check.code("wrong password", NOAUTH, () -> wrong.getData(p, false, null));
        Check.eq("same credentials other session", A, same.getData(p, false, null));
        Check.that("anon exists ok", anon.exists(p, false) != null);
        Check.eq("anon children of parent ok", Arrays.asList("priv"), anon.getChildren(c.base, false));
        // auth is added late on an existing connection and takes effect immediately
        anon.addAuthInfo("digest", "alice:secret".getBytes());
        Check.eq("late auth", A, anon.getData(p, false, null));
        own.delete(p, -1);
    }

    static void invalid(Ctx c) throws Exception {
        ZooKeeper anon = c.open();
        Check.code("creator acl without auth", INVALIDACL,
                () -> anon.create(c.p("x"), A, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
        Check.code("empty acl", INVALIDACL,
                () -> anon.create(c.p("x"), A, new ArrayList<>(), CreateMode.PERSISTENT));
        Check.code("unknown scheme", INVALIDACL, () -> anon.create(c.p("x"), A,
                Collections.singletonList(new ACL(Perms.ALL, new Id("nosuch", "x"))), CreateMode.PERSISTENT));
        Check.code("bad digest id", INVALIDACL, () -> anon.create(c.p("x"), A,
                Collections.singletonList(new ACL(Perms.ALL, new Id("digest", "nocolon"))), CreateMode.PERSISTENT));
        anon.create(c.p("ok"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Check.code("setACL creator without auth", INVALIDACL, () -> anon.setACL(c.p("ok"), Ids.CREATOR_ALL_ACL, -1));
        Check.code("setACL bad version", BADVERSION, () -> anon.setACL(c.p("ok"), Ids.OPEN_ACL_UNSAFE, 3));
        Check.eq("nothing created", Arrays.asList("ok"), anon.getChildren(c.base, false));
    }

    static void perms(Ctx c) throws Exception {
        ZooKeeper own = c.open(), anon = c.open();
        own.addAuthInfo("digest", "bob:pw".getBytes());
        String bob = digestId("bob:pw");
        List<ACL> acl = Arrays.asList(new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE),
                new ACL(Perms.ALL, new Id("digest", bob)));
        String p = c.p("ro");
        own.create(p, A, acl, CreateMode.PERSISTENT);
        Check.eq("anon reads", A, anon.getData(p, false, null));
        Check.code("anon setData", NOAUTH, () -> anon.setData(p, A, -1));
        Check.code("anon create", NOAUTH, () -> anon.create(p + "/k", A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        own.create(p + "/k", A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Check.code("anon delete child", NOAUTH, () -> anon.delete(p + "/k", -1));
        Check.code("anon setACL", NOAUTH, () -> anon.setACL(p, Ids.OPEN_ACL_UNSAFE, -1));
        Check.eq("owner getACL", acl, own.getACL(p, null));
        Check.eq("anon getACL masks digest without ADMIN", Arrays.asList(
                new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE), new ACL(Perms.ALL, new Id("digest", "bob:x"))),
                anon.getACL(p, null));
        Stat st = own.setACL(p, Ids.OPEN_ACL_UNSAFE, 0);
        Check.eq("aversion", 1, st.getAversion());
        anon.setData(p, A, -1);
        own.delete(p + "/k", -1);
        // a node with WRITE only: not readable, but writable
        own.create(c.p("wo"), A, Collections.singletonList(new ACL(Perms.WRITE, Ids.ANYONE_ID_UNSAFE)), CreateMode.PERSISTENT);
        anon.setData(c.p("wo"), "b".getBytes(), -1);
        Check.code("write-only read", NOAUTH, () -> anon.getData(c.p("wo"), false, null));
    }

    static List<String> infos(List<ClientInfo> l) {
        List<String> out = new ArrayList<>();
        for (ClientInfo i : l) out.add(i.getAuthScheme() + ":" + i.getUser());
        Collections.sort(out);
        return out;
    }

    /** The ip id the server should report: the literal host we dial (127.0.0.1 normally). */
    static String ipId(Ctx c, ZooKeeper zk) throws Exception {
        String host = c.hostPort.substring(0, c.hostPort.lastIndexOf(':'));
        if (host.matches("[0-9.]+")) return "ip:" + host;
        for (String s : infos(zk.whoAmI())) {
            if (s.equals("ip:127.0.0.1") || s.equals("ip:0:0:0:0:0:0:0:1")) return s;
        }
        throw new AssertionError("no loopback ip id in whoAmI");
    }

    static void whoAmI(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        String ip = ipId(c, zk);
        Check.eq("anonymous", Arrays.asList(ip), infos(zk.whoAmI()));
        zk.addAuthInfo("digest", "carol:pw".getBytes());
        Check.eq("digest", Arrays.asList("digest:carol", ip), infos(zk.whoAmI()));
        zk.addAuthInfo("digest", "dave:pw".getBytes());
        Check.eq("two digests", Arrays.asList("digest:carol", "digest:dave", ip), infos(zk.whoAmI()));
    }
}
