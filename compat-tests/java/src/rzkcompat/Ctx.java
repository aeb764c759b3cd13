// Per-case context: the server address, a fresh base znode for the case, and every client
// handle the case opens (closed by the runner afterwards, even when the case fails).
package rzkcompat;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;

final class Ctx {
    static final int SESSION_MS = 10000;
    final String hostPort;
    final String base;
    private final List<AutoCloseable> opened = new ArrayList<>();

    Ctx(String hostPort, String base) {
        this.hostPort = hostPort;
        this.base = base;
    }

    String p(String rel) { return base + "/" + rel; }

    ZooKeeper open() throws Exception { return open(new Events(), SESSION_MS); }

    ZooKeeper open(Watcher w) throws Exception { return open(w, SESSION_MS); }

    ZooKeeper open(Watcher w, int sessionMs) throws Exception {
        return connected(hostPort, w, sessionMs);
    }

    /** Opens a handle on any connect string and waits (bounded) for SyncConnected. */
    ZooKeeper connected(String connect, Watcher w, int sessionMs) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, sessionMs, e -> {
            if (e.getState() == KeeperState.SyncConnected) up.countDown();
            if (w != null) w.process(e);
        });
        track(zk::close);
        if (!up.await(5, TimeUnit.SECONDS)) throw new AssertionError("connect timed out");
        return zk;
    }

    /** Re-attaches to an existing session on a new handle (does not wait). */
    ZooKeeper attach(Watcher w, long sid, byte[] pw) throws Exception {
        ZooKeeper zk = new ZooKeeper(hostPort, SESSION_MS, w, sid, pw);
        track(zk::close);
        return zk;
    }

    CuratorFramework curator() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(hostPort, SESSION_MS, 5000,
                new RetryNTimes(3, 200));
        c.start();
        track(c::close);
        if (!c.blockUntilConnected(5, TimeUnit.SECONDS)) throw new AssertionError("curator connect timed out");
        return c;
    }

    void track(AutoCloseable c) { synchronized (opened) { opened.add(c); } }

    void closeAll() {
        List<AutoCloseable> copy;
        synchronized (opened) { copy = new ArrayList<>(opened); opened.clear(); }
        for (int i = copy.size() - 1; i >= 0; i--) {
            try { copy.get(i).close(); } catch (Exception ignored) { }
        }
    }
}
