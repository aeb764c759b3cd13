// Watch cases on the plain API: one-shot exists/getData/getChildren watches with exact event
// types and paths, persistent and persistent-recursive watches (addWatch), removeWatches /
// removeAllWatches incl. the NoWatcher error, and ephemeral deletion on session close.
package rzkcompat;

import static org.apache.zookeeper.KeeperException.Code.*;
import static org.apache.zookeeper.Watcher.Event.EventType.*;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.WatcherType;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

final class WatchCases {
    private WatchCases() {}

    static final byte[] A = "a".getBytes();
    static final long QUIET_MS = 300;

    static void register() {
        Main.add("exists_watch", WatchCases::existsWatch);
        Main.add("getdata_watch", WatchCases::getDataWatch);
        Main.add("children_watch", WatchCases::childrenWatch);
        Main.add("default_watcher", WatchCases::defaultWatcher);
        Main.add("persistent_watch", WatchCases::persistent);
        Main.add("persistent_recursive_watch", WatchCases::recursive);
        Main.add("remove_watches", WatchCases::removeWatches);
        Main.add("ephemeral_close_events", WatchCases::ephemeralClose);
    }

    static void mk(ZooKeeper zk, String p) throws Exception {
        zk.create(p, A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    static void existsWatch(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), w = c.open();
        Events ev = new Events();
        String p = c.p("x");
        Check.eq("exists missing", null, w.exists(p, ev));
        mk(zk, p);
        ev.expect(NodeCreated, p);
        zk.setData(p, A, -1);
        ev.expectNone(QUIET_MS); // one-shot: already fired
        Check.eq("exists stat version", 1, w.exists(p, ev).getVersion());
        zk.setData(p, A, -1);
        ev.expect(NodeDataChanged, p);
        w.exists(p, ev);
        mk(zk, p + "/k"); // child changes do not fire data watches
        zk.delete(p + "/k", -1);
        ev.expectNone(QUIET_MS);
        zk.delete(p, -1);
        ev.expect(NodeDeleted, p);
    }

    static void getDataWatch(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), w = c.open();
        Events ev = new Events();
        String p = c.p("x");
        Check.code("getData missing", NONODE, () -> w.getData(p, ev, null));
        mk(zk, p); // no watch was left by the failed getData
        ev.expectNone(QUIET_MS);
        w.getData(p, ev, null);
        zk.setData(p, "b".getBytes(), -1);
        ev.expect(NodeDataChanged, p);
        Check.eq("new data", "b".getBytes(), w.getData(p, ev, null));
        zk.delete(p, -1);
        ev.expect(NodeDeleted, p);
        ev.expectNone(QUIET_MS);
    }

    static void childrenWatch(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), w = c.open();
        Events ev = new Events();
        String p = c.p("x");
        mk(zk, p);
        Check.eq("no children", 0, w.getChildren(p, ev).size());
        zk.setData(p, A, -1); // data change does not fire a child watch
        ev.expectNone(QUIET_MS);
        mk(zk, p + "/k");
        ev.expect(NodeChildrenChanged, p);
        w.getChildren(p, ev);
        mk(zk, p + "/k/g"); // grandchild: no event
        ev.expectNone(QUIET_MS);
        zk.delete(p + "/k/g", -1);
        zk.delete(p + "/k", -1);
        ev.expect(NodeChildrenChanged, p);
        w.getChildren(p, ev, null);
        zk.delete(p, -1);
        ev.expect(NodeDeleted, p);
        Check.code("getChildren missing", NONODE, () -> w.getChildren(p, ev));
        mk(zk, p);
        mk(zk, p + "/k");
        ev.expectNone(QUIET_MS);
    }

    static void defaultWatcher(Ctx c) throws Exception {
        ZooKeeper zk = c.open();
        Events ev = new Events();
        ZooKeeper w = c.open(ev);
        String p = c.p("x");
        mk(zk, p);
        w.getData(p, true, null);
        w.exists(p, true);
        w.getChildren(p, true);
        zk.setData(p, A, -1);
        ev.expect(NodeDataChanged, p); // one event for both data-type watches
        mk(zk, p + "/k");
        ev.expect(NodeChildrenChanged, p);
        ev.expectNone(QUIET_MS);
    }

    static void persistent(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), w = c.open();
        Events ev = new Events();
        String p = c.p("p");
        w.addWatch(p, ev, AddWatchMode.PERSISTENT);
        mk(zk, p);
        ev.expect(NodeCreated, p);
        zk.setData(p, A, -1);
        ev.expect(NodeDataChanged, p);
        zk.setData(p, A, -1);
        ev.expect(NodeDataChanged, p);
        mk(zk, p + "/k");
        ev.expect(NodeChildrenChanged, p);
        zk.setData(p + "/k", A, -1);
        mk(zk, p + "/k/g");
        zk.delete(p + "/k/g", -1);
        ev.expectNone(QUIET_MS);
        zk.delete(p + "/k", -1);
        ev.expect(NodeChildrenChanged, p);
        zk.delete(p, -1);
        ev.expect(NodeDeleted, p);
        mk(zk, p);
        ev.expect(NodeCreated, p);
        w.removeWatches(p, ev, WatcherType.Any, false);
        ev.expect(PersistentWatchRemoved, p);
        zk.setData(p, A, -1);
        ev.expectNone(QUIET_MS);
    }

    static void recursive(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), w = c.open();
        Events ev = new Events();
        String r = c.p("r");
        w.addWatch(r, ev, AddWatchMode.PERSISTENT_RECURSIVE);
        mk(zk, r);
        ev.expect(NodeCreated, r);
        mk(zk, r + "/a");
        ev.expect(NodeCreated, r + "/a");
        zk.setData(r + "/a", A, -1);
        ev.expect(NodeDataChanged, r + "/a");
        mk(zk, r + "/a/b");
        ev.expect(NodeCreated, r + "/a/b");
        zk.setData(r, A, -1);
        ev.expect(NodeDataChanged, r);
        zk.delete(r + "/a/b", -1);
        ev.expect(NodeDeleted, r + "/a/b");
        zk.delete(r + "/a", -1);
        ev.expect(NodeDeleted, r + "/a");
        mk(zk, c.p("rx")); // sibling with a common string prefix is not below r
        ev.expectNone(QUIET_MS); // never NodeChildrenChanged
        w.removeAllWatches(r, WatcherType.Any, false);
        ev.expect(PersistentWatchRemoved, r);
        mk(zk, r + "/z");
        ev.expectNone(QUIET_MS);
    }

    static void removeWatches(Ctx c) throws Exception {
        ZooKeeper zk = c.open(), w = c.open();
        Events data = new Events(), kids = new Events();
        String p = c.p("x");
        mk(zk, p);
        w.getData(p, data, null);
        w.getChildren(p, kids);
        w.removeWatches(p, data, WatcherType.Data, false);
        data.expect(DataWatchRemoved, p);
        Check.code("data watch gone", NOWATCHER, () -> w.removeWatches(p, data, WatcherType.Data, false));
        zk.setData(p, A, -1);
        data.expectNone(QUIET_MS);
        w.removeAllWatches(p, WatcherType.Children, false);
        kids.expect(ChildWatchRemoved, p);
        mk(zk, p + "/k");
        kids.expectNone(QUIET_MS);
        Check.code("nothing left", NOWATCHER, () -> w.removeAllWatches(p, WatcherType.Any, false));
        Check.code("never watched", NOWATCHER, () -> w.removeAllWatches(c.p("none"), WatcherType.Any, false));
        // exists watch on a missing node is removable too
        w.exists(c.p("later"), data);
        w.removeWatches(c.p("later"), data, WatcherType.Any, false);
        data.expect(DataWatchRemoved, c.p("later"));
        mk(zk, c.p("later"));
        data.expectNone(QUIET_MS);
    }

    static void ephemeralClose(Ctx c) throws Exception {
        ZooKeeper owner = c.open(), w = c.open();
        Events ev = new Events();
        String e = c.p("eph");
        owner.create(e, A, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        w.exists(e, ev);
        w.getChildren(c.base, ev);
        owner.close();
        ev.expectSet(NodeDeleted + " " + e, NodeChildrenChanged + " " + c.base);
        Check.eq("gone", null, w.exists(e, false));
    }
}
