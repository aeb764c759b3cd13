// Plain-API node cases: every create mode (incl. container and TTL), create2 Stat fields,
// data versions, null vs empty data, delete error codes, sequence numbering / cversion,
// container and TTL reaping, getEphemerals, getAllChildrenNumber, sync and chroot paths.
package rzkcompat;

import static org.apache.zookeeper.KeeperException.Code.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

final class BasicCases {
    private BasicCases() {}

    static final byte[] A = "a".getBytes();

    static void register() {
        Main.add("create_modes", BasicCases::createModes);
        Main.add("create2_stat", BasicCases::create2Stat);
        Main.add("get_set_versions", BasicCases::getSetVersions);
        Main.add("null_vs_empty_data", BasicCases::nullVsEmpty);
        Main.add("delete_codes", BasicCases::deleteCodes);
        Main.add("sequence_and_cversion", BasicCases::sequenceCversion);
        Main.add("container_reaped", BasicCases::containerReaped);
        Main.add("ttl_reaped", BasicCases::ttlReaped);
        Main.add("get_ephemerals", BasicCases::getEphemerals);
        Main.add("all_children_number", BasicCases::allChildrenNumber);
        Main.add("sync", BasicCases::sync);
        Main.add("chroot", BasicCases::chroot);
        Main.add("builtin_nodes", BasicCases::builtinNodes);
    }

    static String mk(ZooKeeper zk, String path, CreateMode m) throws Exception {
        return zk.create(path, A, Ids.OPEN_ACL_UNSAFE, m);
    }

    static void createModes(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        Stat st = new Stat();
        Check.eq("persistent", c.p("per"), mk(zk, c.p("per"), CreateMode.PERSISTENT));
        Check.eq("ephemeral", c.p("eph"), zk.create(c.p("eph"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, st));
        Check.eq("ephemeral owner", zk.getSessionId(), st.getEphemeralOwner());
        // suffix = number of successful child creates of the parent so far
        Check.eq("persistent seq", c.p("s-0000000002"), mk(zk, c.p("s-"), CreateMode.PERSISTENT_SEQUENTIAL));
        Check.eq("ephemeral seq", c.p("es-0000000003"), mk(zk, c.p("es-"), CreateMode.EPHEMERAL_SEQUENTIAL));
        Check.eq("container", c.p("cont"), zk.create(c.p("cont"), null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, st));
        Check.eq("container owner", 0L, st.getEphemeralOwner());
        Check.eq("ttl", c.p("ttl"), zk.create(c.p("ttl"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, st, 60000));
        Check.eq("ttl owner", 0L, st.getEphemeralOwner());
        Check.eq("ttl seq", c.p("ts-0000000006"), zk.create(c.p("ts-"), A, Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, st, 60000));
        Check.code("exists", NODEEXISTS, () -> mk(zk, c.p("per"), CreateMode.PERSISTENT));
        Check.code("no parent", NONODE, () -> mk(zk, c.p("nope/x"), CreateMode.PERSISTENT));
        Check.code("ephemeral parent", NOCHILDRENFOREPHEMERALS, () -> mk(zk, c.p("eph/x"), CreateMode.PERSISTENT));
        Check.eq("container child", c.p("cont/x"), mk(zk, c.p("cont/x"), CreateMode.PERSISTENT));
        Check.eq("ttl child", c.p("ttl/x"), mk(zk, c.p("ttl/x"), CreateMode.PERSISTENT));
        // failed creates above did not advance the parent's sequence counter
        Check.eq("seq after errors", c.p("s-0000000007"), mk(zk, c.p("s-"), CreateMode.PERSISTENT_SEQUENTIAL));
        List<String> kids = zk.getChildren(c.base, false);
        Collections.sort(kids);
        Check.eq("children", Arrays.asList("cont", "eph", "es-0000000003", "per", "s-0000000002",
                "s-0000000007", "ts-0000000006", "ttl"), kids);
        Check.eq("exists missing", null, zk.exists(c.p("nope"), false));
    }

    static void create2Stat(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        long now = System.currentTimeMillis();
        Stat st = new Stat();
        zk.create(c.p("n"), "hello".getBytes(), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, st);
        Check.that("czxid>0", st.getCzxid() > 0);
        Check.eq("mzxid", st.getCzxid(), st.getMzxid());
        Check.eq("pzxid", st.getCzxid(), st.getPzxid());
        Check.eq("mtime", st.getCtime(), st.getMtime());
        Check.that("ctime near now", Math.abs(st.getCtime() - now) < 60000);
        Check.eq("versions", "0 0 0", st.getVersion() + " " + st.getCversion() + " " + st.getAversion());
        Check.eq("dataLength", 5, st.getDataLength());
        Check.eq("numChildren", 0, st.getNumChildren());
        Check.eq("owner", 0L, st.getEphemeralOwner());
        Check.eq("exists stat", st, zk.exists(c.p("n"), false));
        Stat cs = new Stat();
        zk.create(c.p("n/k"), null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cs);
        Check.that("zxid grows", cs.getCzxid() > st.getCzxid());
        Stat ps = zk.exists(c.p("n"), false);
        Check.eq("parent pzxid", cs.getCzxid(), ps.getPzxid());
        Check.eq("parent cversion", 1, ps.getCversion());
        Check.eq("parent numChildren", 1, ps.getNumChildren());
        Check.eq("parent mzxid unchanged", st.getMzxid(), ps.getMzxid());
        Check.eq("parent version unchanged", 0, ps.getVersion());
        Check.eq("child dataLength", 0, cs.getDataLength());
        Stat s2 = zk.setData(c.p("n"), "hi".getBytes(), 0);
        Check.that("mzxid grows", s2.getMzxid() > cs.getCzxid());
        Check.eq("czxid kept", st.getCzxid(), s2.getCzxid());
        Check.eq("version", 1, s2.getVersion());
        Check.eq("dataLength", 2, s2.getDataLength());
        Stat s3 = zk.setACL(c.p("n"), Ids.OPEN_ACL_UNSAFE, 0);
        Check.eq("aversion", 1, s3.getAversion());
        Check.eq("setACL keeps mzxid", s2.getMzxid(), s3.getMzxid());
        zk.delete(c.p("n/k"), -1);
        Stat s4 = zk.exists(c.p("n"), false);
        Check.that("pzxid after delete", s4.getPzxid() > s3.getMzxid());
        Check.eq("cversion after delete", 2, s4.getCversion());
        Check.eq("numChildren after delete", 0, s4.getNumChildren());
    }

    static void getSetVersions(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        String p = c.p("v");
        zk.create(p, "v0".getBytes(), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Check.eq("set v0", 1, zk.setData(p, "v1".getBytes(), 0).getVersion());
        Check.code("stale version", BADVERSION, () -> zk.setData(p, "x".getBytes(), 0));
        Check.code("future version", BADVERSION, () -> zk.setData(p, "x".getBytes(), 7));
        Check.eq("set any", 2, zk.setData(p, "v2".getBytes(), -1).getVersion());
        Stat st = new Stat();
        Check.eq("data", "v2".getBytes(), zk.getData(p, false, st));
        Check.eq("stat version", 2, st.getVersion());
        Check.eq("stat dataLength", 2, st.getDataLength());
        Check.code("set missing", NONODE, () -> zk.setData(c.p("zz"), A, 3));
        Check.code("get missing", NONODE, () -> zk.getData(c.p("zz"), false, null));
        Check.code("children missing", NONODE, () -> zk.getChildren(c.p("zz"), false));
    }

    static void nullVsEmpty(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        zk.create(c.p("null"), null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(c.p("empty"), new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat st = new Stat();
        Check.eq("null data", null, zk.getData(c.p("null"), false, st));
        Check.eq("null dataLength", 0, st.getDataLength());
        Check.eq("empty data", new byte[0], zk.getData(c.p("empty"), false, st));
        zk.setData(c.p("empty"), null, -1);
        Check.eq("set null", null, zk.getData(c.p("empty"), false, st));
        byte[] big = new byte[300000];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
        zk.setData(c.p("null"), big, -1);
        Check.eq("large data", big, zk.getData(c.p("null"), false, st));
        Check.eq("large dataLength", big.length, st.getDataLength());
    }

    static void deleteCodes(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        String p = c.p("d");
        mk(zk, p, CreateMode.PERSISTENT);
        mk(zk, p + "/k", CreateMode.PERSISTENT);
        Check.code("version before emptiness", BADVERSION, () -> zk.delete(p, 5));
        Check.code("not empty", NOTEMPTY, () -> zk.delete(p, -1));
        Check.code("child bad version", BADVERSION, () -> zk.delete(p + "/k", 1));
        zk.delete(p + "/k", 0);
        Check.code("gone", NONODE, () -> zk.delete(p + "/k", -1));
        Check.code("missing parent", NONODE, () -> zk.delete(c.p("x/y"), -1));
        zk.delete(p, 0);
        Check.code("root", BADARGUMENTS, () -> zk.delete("/", -1));
        Check.code("/zookeeper", BADARGUMENTS, () -> zk.delete("/zookeeper", -1));
    }

    static void sequenceCversion(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        String p = c.p("q");
        mk(zk, p, CreateMode.PERSISTENT);
        Check.eq("seq0", p + "/n-0000000000", mk(zk, p + "/n-", CreateMode.PERSISTENT_SEQUENTIAL));
        Check.eq("seq1", p + "/n-0000000001", mk(zk, p + "/n-", CreateMode.EPHEMERAL_SEQUENTIAL));
        zk.delete(p + "/n-0000000000", -1);
        Check.eq("seq after delete", p + "/n-0000000002", mk(zk, p + "/n-", CreateMode.PERSISTENT_SEQUENTIAL));
        Check.eq("other prefix shares counter", p + "/m0000000003", mk(zk, p + "/m", CreateMode.PERSISTENT_SEQUENTIAL));
        Stat st = zk.exists(p, false);
        Check.eq("cversion = creates+deletes", 5, st.getCversion());
        Check.eq("numChildren", 3, st.getNumChildren());
        Stat root = zk.exists("/zookeeper", false);
        Check.that("/zookeeper exists", root != null);
    }

    static void waitGone(ZooKeeper zk, String path, long ms) throws Exception {
        long end = System.currentTimeMillis() + ms;
        while (zk.exists(path, false) != null) {
            if (System.currentTimeMillis() > end) throw new AssertionError(path + " not reaped within " + ms + " ms");
            Thread.sleep(100);
        }
    }

    static void containerReaped(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        String p = c.p("box");
        zk.create(p, null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER);
        mk(zk, p + "/k", CreateMode.PERSISTENT);
        Thread.sleep(1500); // a container with a child survives a check interval
        Check.that("still there", zk.exists(p, false) != null);
        Events ev = new Events();
        zk.exists(p, ev);
        zk.delete(p + "/k", -1);
        waitGone(zk, p, 8000);
        ev.expect(EventType.NodeDeleted, p);
    }

    static void ttlReaped(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        String p = c.p("ttl");
        zk.create(p, A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, null, 300);
        zk.create(c.p("long"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, null, 600000);
        waitGone(zk, p, 8000);
        Check.that("long ttl kept", zk.exists(c.p("long"), false) != null);
    }

    static void getEphemerals(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), zk2 = c.open();
        for (String d : new String[] {"a", "b"}) mk(zk, c.p(d), CreateMode.PERSISTENT);
        for (String e : new String[] {"a/e1", "a/e2", "b/e3"}) mk(zk, c.p(e), CreateMode.EPHEMERAL);
        mk(zk2, c.p("a/e4"), CreateMode.EPHEMERAL);
        mk(zk, c.p("a/p5"), CreateMode.PERSISTENT);
        Check.eq("prefix a", Arrays.asList(c.p("a/e1"), c.p("a/e2")), sorted(zk.getEphemerals(c.p("a"))));
        Check.eq("prefix is plain string", Arrays.asList(c.p("a/e1"), c.p("a/e2")), sorted(zk.getEphemerals(c.p("a/e"))));
        Check.eq("all", Arrays.asList(c.p("a/e1"), c.p("a/e2"), c.p("b/e3")), sorted(zk.getEphemerals()));
        Check.eq("root prefix", Arrays.asList(c.p("a/e1"), c.p("a/e2"), c.p("b/e3")), sorted(zk.getEphemerals("/")));
        Check.eq("other session", Arrays.asList(c.p("a/e4")), sorted(zk2.getEphemerals()));
        Check.eq("no match", Collections.emptyList(), zk.getEphemerals(c.p("zzz")));
    }

    static List<String> sorted(List<String> l) {
        List<String> r = new ArrayList<>(l);
        Collections.sort(r);
        return r;
    }

    static void allChildrenNumber(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        for (String n : new String[] {"a", "a/b", "a/b/c", "a/d", "e"}) mk(zk, c.p(n), CreateMode.PERSISTENT);
        Check.eq("base", 5, zk.getAllChildrenNumber(c.base));
        Check.eq("a", 3, zk.getAllChildrenNumber(c.p("a")));
        Check.eq("leaf", 0, zk.getAllChildrenNumber(c.p("a/b/c")));
        Check.code("missing", NONODE, () -> zk.getAllChildrenNumber(c.p("zz")));
    }

    static void sync(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), other = c.open();
        other.create(c.p("s"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        CompletableFuture<String> f = new CompletableFuture<>();
        zk.sync(c.p("s"), (rc, path, ctx) -> f.complete(rc + " " + path + " " + ctx), "ctx");
        Check.eq("sync result", "0 " + c.p("s") + " ctx", f.get(5, TimeUnit.SECONDS));
        Check.eq("read after sync", A, zk.getData(c.p("s"), false, null));
        CompletableFuture<String> g = new CompletableFuture<>();
        zk.sync(c.p("missing"), (rc, path, ctx) -> g.complete(rc + " " + path), null);
        Check.eq("sync missing path", "0 " + c.p("missing"), g.get(5, TimeUnit.SECONDS));
    }

    static void chroot(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        mk(zk, c.p("ch"), CreateMode.PERSISTENT);
        Events ev = new Events();
        ZooKeeper cz = c.connected(c.hostPort + c.p("ch"), ev, Ctx.SESSION_MS);
        Check.eq("chroot create", "/x", mk(cz, "/x", CreateMode.PERSISTENT));
        Check.eq("seen outside", A, zk.getData(c.p("ch/x"), false, null));
        Check.eq("seq path", "/s0000000001", mk(cz, "/s", CreateMode.PERSISTENT_SEQUENTIAL));
        cz.exists("/y", true);
        cz.getChildren("/", true);
        mk(zk, c.p("ch/y"), CreateMode.PERSISTENT);
        ev.expectSet(EventType.NodeCreated + " /y", EventType.NodeChildrenChanged + " /");
        Check.eq("ephemerals relative", Collections.emptyList(), cz.getEphemerals());
    }

    static void builtinNodes(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        Stat st = new Stat();
        Check.eq("standalone config text", new byte[0], zk.getConfig(false, st));
        // 3.8 standalone: all zero except aversion -1 (the node's ACL is set with version -1)
        Check.eq("config stat", "0,0,0,0,0,0,-1,0,0,0,0", st.toString().trim());
        Check.eq("config acl", Ids.READ_ACL_UNSAFE, zk.getACL("/zookeeper/config", null));
        Check.code("config read-only", NOAUTH, () -> zk.setData("/zookeeper/config", A, -1));
        Check.code("delete config", BADARGUMENTS, () -> zk.delete("/zookeeper/config", -1));
        Check.code("delete quota", BADARGUMENTS, () -> zk.delete("/zookeeper/quota", -1));
        List<String> kids = zk.getChildren("/zookeeper", false);
        Check.that("/zookeeper children " + kids, kids.contains("config") && kids.contains("quota"));
        Stat q = zk.exists("/zookeeper/quota", false);
        Check.eq("quota zxids/times", "0 0 0 0", q.getCzxid() + " " + q.getMzxid() + " " + q.getCtime() + " " + q.getMtime());
        Check.eq("root czxid", 0L, zk.exists("/", false).getCzxid());
        Check.eq("empty path is invalid for the client", IllegalArgumentException.class,
                thrown(() -> zk.exists("", false)));
    }

    static Class<?> thrown(Check.Action a) {
        try {
            a.run();
        } catch (Exception e) {
            return e.getClass();
        }
        return null;
    }
}
