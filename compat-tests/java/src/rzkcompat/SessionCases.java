// Session cases: server-side expiry observed through watchers (a proxy starves the session of
// pings), transparent resume after a short disconnect with SetWatches catch-up events, and
// re-attaching to a session id/password from a new ZooKeeper handle (and a wrong password).
package rzkcompat;

import static org.apache.zookeeper.KeeperException.Code.*;
import static org.apache.zookeeper.Watcher.Event.EventType.*;

import java.util.Arrays;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

final class SessionCases {
    private SessionCases() {}

    static final byte[] A = "a".getBytes();
    static final int SHORT_SESSION_MS = 4000;

    static void register() {
        Main.add("session_expiry", SessionCases::expiry);
        Main.add("session_resume_setwatches", SessionCases::resume);
        Main.add("session_reattach", SessionCases::reattach);
    }

    static void expiry(Ctx c) throws Exception {
        ZooKeeper obs = c.open();
        Proxy px = new Proxy(c.hostPort);
        c.track(px);
        Events ev = new Events(true);
        ZooKeeper zk = c.connected(px.address(), ev, SHORT_SESSION_MS);
        int negotiated = zk.getSessionTimeout();
        Check.that("negotiated timeout > 0", negotiated > 0);
        String e = c.p("eph");
        zk.create(e, A, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        Events oev = new Events();
        obs.exists(e, oev);
        long t0 = System.currentTimeMillis();
        px.freeze();
        ev.expectState(KeeperState.Disconnected, 5000);
        WatchedEvent del = oev.next(2L * negotiated + 4000);
        long took = System.currentTimeMillis() - t0;
        Check.that("ephemeral not deleted within " + took + " ms", del != null);
        Check.eq("expiry event", NodeDeleted + " " + e, del.getType() + " " + del.getPath());
        Check.that("expired too early: " + took + " ms of " + negotiated, took >= negotiated * 2L / 3 - 200);
        Check.eq("ephemeral gone", null, obs.exists(e, false));
        px.thaw();
        ev.expectState(KeeperState.Expired, 10000);
        Check.code("use after expiry", SESSIONEXPIRED, () -> zk.exists(e, false));
    }

    static void resume(Ctx c) throws Exception {
        ZooKeeper other = c.open();
        Proxy px = new Proxy(c.hostPort);
        c.track(px);
        Events state = new Events(true);
        ZooKeeper zk = c.connected(px.address(), state, Ctx.SESSION_MS);
        long sid = zk.getSessionId();
        for (String n : new String[] {"d", "k", "gone"}) other.create(c.p(n), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(c.p("eph"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        Events ev = new Events(), pers = new Events();
        zk.getData(c.p("d"), ev, null);       // will change while disconnected
        zk.getChildren(c.p("k"), ev);         // child added while disconnected
        zk.exists(c.p("new"), ev);            // created while disconnected
        zk.getData(c.p("gone"), ev, null);    // deleted while disconnected
        zk.addWatch(c.p("pw"), pers, AddWatchMode.PERSISTENT);
        px.freeze();
        state.expectState(KeeperState.Disconnected, 5000);
        other.setData(c.p("d"), "b".getBytes(), -1);
        other.create(c.p("k/x"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        other.create(c.p("new"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        other.delete(c.p("gone"), -1);
        px.thaw();
        state.expectState(KeeperState.SyncConnected, 8000);
        ev.expectSet(NodeDataChanged + " " + c.p("d"), NodeChildrenChanged + " " + c.p("k"),
                NodeCreated + " " + c.p("new"), NodeDeleted + " " + c.p("gone"));
        Check.eq("same session", sid, zk.getSessionId());
        Check.eq("ephemeral kept", sid, other.exists(c.p("eph"), false).getEphemeralOwner());
        other.create(c.p("pw"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        pers.expect(NodeCreated, c.p("pw")); // persistent watch was re-registered
        ev.expectNone(200);
    }

    static void reattach(Ctx c) throws Exception {
        ZooKeeper other = c.open();
        Proxy px = new Proxy(c.hostPort);
        c.track(px);
        Events ev1 = new Events(true);
        ZooKeeper a = c.connected(px.address(), ev1, Ctx.SESSION_MS);
        long sid = a.getSessionId();
        byte[] pw = a.getSessionPasswd();
        Check.eq("password length", 16, pw.length);
        a.create(c.p("e1"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        px.freeze(); // keep handle a from reconnecting and stealing the session back
        ev1.expectState(KeeperState.Disconnected, 5000);

        byte[] bad = pw.clone();
        bad[0] ^= 1;
        Events evBad = new Events(true);
        c.attach(evBad, sid, bad);
        evBad.expectState(KeeperState.Expired, 8000);

        Events ev2 = new Events(true);
        ZooKeeper b = c.attach(ev2, sid, pw);
        ev2.expectState(KeeperState.SyncConnected, 8000);
        Check.eq("same id", sid, b.getSessionId());
        Check.eq("same password", pw, b.getSessionPasswd());
        Check.eq("owner", sid, b.exists(c.p("e1"), false).getEphemeralOwner());
        b.create(c.p("e2"), A, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        Check.eq("ephemerals", Arrays.asList(c.p("e1"), c.p("e2")), BasicCases.sorted(b.getEphemerals(c.base)));
        Events oev = new Events();
        other.getChildren(c.base, oev);
        b.close(); // closes the shared session: both ephemerals go
        oev.expect(NodeChildrenChanged, c.base);
        Check.eq("ephemerals removed", 0, other.getChildren(c.base, false).size());
        px.thaw();
        ev1.expectState(KeeperState.Expired, 10000);
    }
}
