// Drive the stock Java client API (zookeeper-3.8.0.jar) for opcodes zkCli.sh cannot
// reach: multi with check, multiRead, checkWatches, pings, and reconnects that
// replay watches (SetWatches 101, then SetWatches2 105 once a persistent watch exists).
// Run (JDK single-file launch): PROXY_PID=<pid> java -cp <zk jars> DriveJava.java HOST:PORT
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class DriveJava {
    static final LinkedBlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();

    static void log(Object o) { System.out.println("[java] " + o); }

    interface Call { Object run() throws Exception; }

    static void t(String label, Call c) {
        try { log(label + " -> " + c.run()); }
        catch (Exception e) { log(label + " raised " + e); }
    }

    static void awaitConnected() throws Exception {
        while (true) {
            Watcher.Event.KeeperState s = states.poll(20, TimeUnit.SECONDS);
            if (s == null) throw new RuntimeException("timeout waiting for SyncConnected");
            if (s == Watcher.Event.KeeperState.SyncConnected) return;
        }
    }

    static void dropConnection() throws Exception {
        String pid = System.getenv("PROXY_PID");
        new ProcessBuilder("kill", "-USR1", pid).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
        log("proxy dropped the connection");
        awaitConnected();
        log("reconnected");
    }

    public static void main(String[] args) throws Exception {
        Watcher w = ev -> { log("event " + ev); if (ev.getType() == Watcher.Event.EventType.None) states.add(ev.getState()); };
        ZooKeeper zk = new ZooKeeper(args[0], 4000, w);
        awaitConnected();
        Stat st = new Stat();
        t("create (opcode 1)", () -> zk.create("/j", "java".getBytes(), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        t("create2 (opcode 15)", () -> zk.create("/j/c2", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL, st));
        t("create2 container", () -> zk.create("/j/cont", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, st));
        t("create2 ttl", () -> zk.create("/j/ttl", new byte[]{1}, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, st, 60000));
        t("multi ok", () -> zk.multi(List.of(
            Op.create("/j/m1", "a".getBytes(), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.create("/j/m2", null, Ids.READ_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL),
            Op.create("/j/m3", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 5000),
            Op.create("/j/mc", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER),
            Op.check("/j", 0),
            Op.setData("/j/m1", "b".getBytes(), -1),
            Op.delete("/j/m1", 1))));
        t("multi failing", () -> zk.multi(List.of(
            Op.create("/j/x1", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.check("/j", 77),
            Op.delete("/j/nope", -1))));
        t("multiRead", () -> zk.multi(List.of(Op.getChildren("/j"), Op.getData("/j"), Op.getData("/j/nope"))));
        t("getConfig", () -> new String(zk.getConfig(false, st)));
        Watcher dw = ev -> log("data watcher " + ev);
        t("getData+watcher", () -> new String(zk.getData("/j", dw, st)));
        t("checkWatches/removeWatches(watcher) (opcode 17)", () -> { zk.removeWatches("/j", dw, Watcher.WatcherType.Data, false); return "ok"; });
        t("removeWatches(watcher) nothing set (error)", () -> { zk.removeWatches("/j", dw, Watcher.WatcherType.Children, false); return "ok"; });
        t("getChildren+watch", () -> zk.getChildren("/j", true));
        t("exists+watch missing", () -> zk.exists("/j/later", true));
        t("getData+watch", () -> new String(zk.getData("/j", true, st)));
        log("idle 3s (pings)");
        Thread.sleep(3000);
        dropConnection();                      // -> SetWatches (101), xid -8
        t("create fires watches", () -> zk.create("/j/later", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        t("exists+watch", () -> zk.exists("/j/later", true));
        t("addWatch persistent", () -> { zk.addWatch("/j/later", AddWatchMode.PERSISTENT); return "ok"; });
        t("addWatch recursive", () -> { zk.addWatch("/j", AddWatchMode.PERSISTENT_RECURSIVE); return "ok"; });
        dropConnection();                      // -> SetWatches2 (105), xid -8
        t("setData fires persistent watches", () -> zk.setData("/j/later", "z".getBytes(), -1));
        Thread.sleep(500);
        t("removeAllWatches", () -> { zk.removeAllWatches("/j", Watcher.WatcherType.Any, false); return "ok"; });
        zk.close();
        log("closed");
    }
}
