// multi / multiRead cases: result types and values on success, the exact per-op error list
// on failure (ops before the failure 0, failing op its code, ops after -2) with atomic
// rollback, watches fired by a multi, and non-atomic multiRead results.
package rzkcompat;

import static org.apache.zookeeper.KeeperException.Code.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

final class MultiCases {
    private MultiCases() {}

    static final byte[] A = "a".getBytes();

    static void register() {
        Main.add("multi_success", MultiCases::success);
        Main.add("multi_failure", MultiCases::failure);
        Main.add("multi_watches", MultiCases::watches);
        Main.add("multi_read", MultiCases::multiRead);
    }

    static Op create(String p, CreateMode m) { return Op.create(p, A, Ids.OPEN_ACL_UNSAFE, m); }

    static void success(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        zk.create(c.p("old"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<OpResult> r = zk.multi(Arrays.asList(
                create(c.p("m"), CreateMode.PERSISTENT),
                Op.setData(c.p("m"), "b".getBytes(), 0), // sees the create above
                Op.check(c.p("m"), 1),
                create(c.p("m/s-"), CreateMode.PERSISTENT_SEQUENTIAL),
                create(c.p("m/s-"), CreateMode.EPHEMERAL_SEQUENTIAL),
                Op.create(c.p("cont"), null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER),
                Op.create(c.p("ttl"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 60000),
                Op.delete(c.p("old"), 0)));
        Check.eq("count", 8, r.size());
        OpResult.CreateResult cr = (OpResult.CreateResult) r.get(0);
        Check.eq("create path", c.p("m"), cr.getPath());
        Check.eq("create type", 1, cr.getType());
        Stat set = ((OpResult.SetDataResult) r.get(1)).getStat();
        Check.eq("set version", 1, set.getVersion());
        Check.eq("check type", OpResult.CheckResult.class, r.get(2).getClass());
        Check.eq("seq 0", c.p("m/s-0000000000"), ((OpResult.CreateResult) r.get(3)).getPath());
        Check.eq("seq 1", c.p("m/s-0000000001"), ((OpResult.CreateResult) r.get(4)).getPath());
        OpResult.CreateResult cont = (OpResult.CreateResult) r.get(5);
        Check.eq("container path", c.p("cont"), cont.getPath());
        Check.eq("container result type", 15, cont.getType());
        Check.that("container stat present", cont.getStat() != null);
        OpResult.CreateResult ttl = (OpResult.CreateResult) r.get(6);
        Check.eq("ttl result type", 15, ttl.getType());
        Check.eq("ttl czxid = shared zxid", set.getMzxid(), ttl.getStat().getCzxid());
        Check.eq("delete type", OpResult.DeleteResult.class, r.get(7).getClass());
        Check.eq("shared zxid", set.getMzxid(), cont.getStat().getCzxid());
        Stat st = new Stat();
        Check.eq("applied", "b".getBytes(), zk.getData(c.p("m"), false, st));
        Check.eq("applied czxid", set.getMzxid(), st.getCzxid());
        Check.eq("old deleted", null, zk.exists(c.p("old"), false));
        Check.eq("empty multi", 0, zk.multi(Collections.emptyList()).size());
    }

    static List<Integer> codes(KeeperException e) {
        List<Integer> out = new ArrayList<>();
        for (OpResult o : e.getResults()) {
            Check.eq("result class", OpResult.ErrorResult.class, o.getClass());
            out.add(((OpResult.ErrorResult) o).getErr());
        }
        return out;
    }

    static void failure(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        zk.create(c.p("v"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        KeeperException e = Check.code("bad check", BADVERSION, () -> zk.multi(Arrays.asList(
                create(c.p("a"), CreateMode.PERSISTENT),
                Op.setData(c.p("v"), "b".getBytes(), -1),
                Op.check(c.p("v"), 5),
                create(c.p("b"), CreateMode.PERSISTENT),
                Op.delete(c.p("v"), -1))));
        Check.eq("codes", Arrays.asList(0, 0, -103, -2, -2), codes(e));
        Check.eq("rolled back create", null, zk.exists(c.p("a"), false));
        Check.eq("rolled back set", 0, zk.exists(c.p("v"), false).getVersion());
        e = Check.code("first fails", NONODE, () -> zk.multi(Arrays.asList(
                Op.delete(c.p("missing"), -1), create(c.p("a"), CreateMode.PERSISTENT))));
        Check.eq("codes first", Arrays.asList(-101, -2), codes(e));
        e = Check.code("exists", NODEEXISTS, () -> zk.multi(Arrays.asList(
                create(c.p("a"), CreateMode.PERSISTENT), create(c.p("a"), CreateMode.PERSISTENT))));
        Check.eq("codes dup", Arrays.asList(0, -110), codes(e));
        e = Check.code("not empty", NOTEMPTY, () -> zk.multi(Arrays.asList(
                create(c.p("v/k"), CreateMode.PERSISTENT), Op.delete(c.p("v"), -1),
                Op.setData(c.p("v"), A, -1))));
        Check.eq("codes not empty", Arrays.asList(0, -111, -2), codes(e));
        Check.eq("nothing created", null, zk.exists(c.p("a"), false));
        Check.eq("seq counter untouched", c.p("s0000000001"),
                zk.create(c.p("s"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
    }

    static void watches(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), w = c.open();
        Events ev = new Events();
        zk.create(c.p("x"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        w.getData(c.p("x"), ev, null);
        w.exists(c.p("y"), ev);
        Check.code("failed multi", BADVERSION, () -> zk.multi(Arrays.asList(
                Op.setData(c.p("x"), A, -1), create(c.p("y"), CreateMode.PERSISTENT), Op.check(c.p("x"), 9))));
        ev.expectNone(300); // failed multi fires nothing
        zk.multi(Arrays.asList(Op.setData(c.p("x"), A, -1), create(c.p("y"), CreateMode.PERSISTENT)));
        ev.expectSet(EventType.NodeDataChanged + " " + c.p("x"), EventType.NodeCreated + " " + c.p("y"));
    }

    static void multiRead(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        zk.create(c.p("d"), "dd".getBytes(), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(c.p("d/k1"), null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(c.p("d/k2"), null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<OpResult> r = zk.multi(Arrays.asList(
                Op.getData(c.p("d")), Op.getChildren(c.p("d")),
                Op.getData(c.p("missing")), Op.getData(c.p("d/k1"))));
        Check.eq("count", 4, r.size());
        OpResult.GetDataResult gd = (OpResult.GetDataResult) r.get(0);
        Check.eq("data", "dd".getBytes(), gd.getData());
        Check.eq("stat", zk.exists(c.p("d"), false), gd.getStat());
        List<String> kids = new ArrayList<>(((OpResult.GetChildrenResult) r.get(1)).getChildren());
        Collections.sort(kids);
        Check.eq("children", Arrays.asList("k1", "k2"), kids);
        Check.eq("missing", -101, ((OpResult.ErrorResult) r.get(2)).getErr());
        Check.eq("null data after error", null, ((OpResult.GetDataResult) r.get(3)).getData());
    }
}
