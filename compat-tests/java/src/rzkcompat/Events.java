// A Watcher that records every event in a queue so cases can assert the exact sequence of
// (type, path) pairs with bounded waits, and that nothing else arrives.
package rzkcompat;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;

final class Events implements Watcher {
    static final long WAIT_MS = 5000;
    private final LinkedBlockingQueue<WatchedEvent> q = new LinkedBlockingQueue<>();
    private final boolean keepStateEvents;

    Events() { this(false); }

    /** keepStateEvents=false drops connection-state events (type None). */
    Events(boolean keepStateEvents) { this.keepStateEvents = keepStateEvents; }

    @Override
    public void process(WatchedEvent e) {
        if (keepStateEvents || e.getType() != EventType.None) q.add(e);
    }

    WatchedEvent next(long ms) throws InterruptedException {
        return q.poll(ms, TimeUnit.MILLISECONDS);
    }

    /** Next node event must be exactly (type, path), state SyncConnected. */
    void expect(EventType type, String path) throws InterruptedException {
        WatchedEvent e = next(WAIT_MS);
        if (e == null) throw new AssertionError("timed out waiting for " + type + " " + path);
        Check.eq("event", type + " " + path + " " + KeeperState.SyncConnected,
                e.getType() + " " + e.getPath() + " " + e.getState());
    }

    /** Waits for a state event (type None) with this state, skipping other state events. */
    void expectState(KeeperState state, long ms) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        while (true) {
            long left = end - System.currentTimeMillis();
            WatchedEvent e = left > 0 ? next(left) : null;
            if (e == null) throw new AssertionError("timed out waiting for state " + state);
            if (e.getType() == EventType.None && e.getState() == state) return;
            if (e.getType() != EventType.None) throw new AssertionError("unexpected event " + e);
        }
    }

    /** The next want.length node events, in any order, must be exactly these "type path" strings. */
    void expectSet(String... want) throws InterruptedException {
        java.util.List<String> got = new java.util.ArrayList<>();
        for (int i = 0; i < want.length; i++) {
            WatchedEvent e = next(WAIT_MS);
            if (e == null) break;
            got.add(e.getType() + " " + e.getPath());
        }
        java.util.List<String> w = new java.util.ArrayList<>(java.util.Arrays.asList(want));
        java.util.Collections.sort(w);
        java.util.Collections.sort(got);
        Check.eq("events", w, got);
    }

    void expectNone(long ms) throws InterruptedException {
        WatchedEvent e = next(ms);
        if (e != null) throw new AssertionError("unexpected event " + e.getType() + " " + e.getPath());
    }
}
