// Curator 5.4 recipe cases: lock contention, leader hand-over, CuratorCache events (which use
// persistent-recursive watches), distributed queues, SharedCount CAS contention and
// transactions. Each client runs its own session; all waits are bounded.
package rzkcompat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.KeeperException;

final class CuratorCases {
    private CuratorCases() {}

    static void register() {
        Main.add("curator_mutex", CuratorCases::mutex);
        Main.add("curator_leader_latch", CuratorCases::leader);
        Main.add("curator_cache", CuratorCases::cache);
        Main.add("curator_queue", CuratorCases::queue);
        Main.add("curator_shared_count", CuratorCases::sharedCount);
        Main.add("curator_transaction", CuratorCases::transaction);
    }

    static void mutex(Ctx c) throws Exception {
        AtomicInteger inside = new AtomicInteger(), maxInside = new AtomicInteger(), done = new AtomicInteger();
        List<Thread> ts = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CuratorFramework cf = c.curator();
            InterProcessMutex m = new InterProcessMutex(cf, c.p("lock"));
            Thread t = new Thread(() -> {
                try {
                    for (int r = 0; r < 4; r++) {
                        if (!m.acquire(8, TimeUnit.SECONDS)) throw new AssertionError("acquire timed out");
                        try {
                            maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            Thread.sleep(20);
                            inside.decrementAndGet();
                            done.incrementAndGet();
                        } finally {
                            m.release();
                        }
                    }
                } catch (Throwable e) {
                    synchronized (errors) { errors.add(String.valueOf(e)); }
                }
            });
            t.start();
            ts.add(t);
        }
        long end = System.currentTimeMillis() + 15000;
        for (Thread t : ts) t.join(Math.max(1, end - System.currentTimeMillis()));
        Check.eq("errors", new ArrayList<String>(), errors);
        Check.eq("critical sections", 12, done.get());
        Check.eq("max holders", 1, maxInside.get());
        CuratorFramework cf = c.curator();
        Check.eq("lock nodes cleaned", 0, cf.getChildren().forPath(c.p("lock")).size());
    }

    static void leader(Ctx c) throws Exception {
        LeaderLatch a = new LeaderLatch(c.curator(), c.p("leader"), "a");
        LeaderLatch b = new LeaderLatch(c.curator(), c.p("leader"), "b");
        a.start();
        Check.that("a leads", a.await(5, TimeUnit.SECONDS));
        b.start();
        c.track(b::close);
        long end = System.currentTimeMillis() + 5000;
        while (b.getParticipants().size() < 2 && System.currentTimeMillis() < end) Thread.sleep(50);
        Check.that("b follows", !b.hasLeadership());
        Check.eq("leader id seen by b", "a", b.getLeader().getId());
        Check.eq("participants", 2, b.getParticipants().size());
        a.close();
        Check.that("b takes over", b.await(5, TimeUnit.SECONDS));
        Check.eq("leader id", "b", b.getLeader().getId());
    }

    static void cache(Ctx c) throws Exception {
        CuratorFramework cf = c.curator(), writer = c.curator();
        String root = c.p("cache");
        cf.create().forPath(root, "r".getBytes());
        LinkedBlockingQueue<String> q = new LinkedBlockingQueue<>();
        CountDownLatch init = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(cf, root);
        c.track(cache::close);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forAll((type, old, data) -> q.add(type + " " + (data != null ? data.getPath() + "=" + new String(data.getData())
                        : old.getPath())))
                .forInitialized(init::countDown).build());
        cache.start();
        Check.that("initialized", init.await(5, TimeUnit.SECONDS));
        Check.eq("initial", "NODE_CREATED " + root + "=r", q.poll(5, TimeUnit.SECONDS));
        writer.create().forPath(root + "/a", "1".getBytes());
        Check.eq("created", "NODE_CREATED " + root + "/a=1", q.poll(5, TimeUnit.SECONDS));
        writer.setData().forPath(root + "/a", "2".getBytes());
        Check.eq("changed", "NODE_CHANGED " + root + "/a=2", q.poll(5, TimeUnit.SECONDS));
        writer.create().forPath(root + "/a/b", "3".getBytes());
        Check.eq("deep created", "NODE_CREATED " + root + "/a/b=3", q.poll(5, TimeUnit.SECONDS));
        writer.delete().forPath(root + "/a/b");
        Check.eq("deep deleted", "NODE_DELETED " + root + "/a/b", q.poll(5, TimeUnit.SECONDS));
        writer.delete().forPath(root + "/a");
        Check.eq("deleted", "NODE_DELETED " + root + "/a", q.poll(5, TimeUnit.SECONDS));
        Check.eq("cache size", 1, cache.size());
        Check.eq("no more", null, q.poll(300, TimeUnit.MILLISECONDS));
    }

    static final QueueSerializer<String> STR = new QueueSerializer<String>() {
        public byte[] serialize(String s) { return s.getBytes(); }
        public String deserialize(byte[] b) { return new String(b); }
    };

    static void queue(Ctx c) throws Exception {
        LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
        QueueConsumer<String> consumer = new QueueConsumer<String>() {
            public void consumeMessage(String m) { got.add(m); }
            public void stateChanged(CuratorFramework cf, ConnectionState s) { }
        };
        DistributedQueue<String> consumerQ = QueueBuilder.builder(c.curator(), consumer, STR, c.p("dq")).buildQueue();
        c.track(consumerQ::close);
        DistributedQueue<String> producerQ = QueueBuilder.builder(c.curator(), null, STR, c.p("dq")).buildQueue();
        c.track(producerQ::close);
        consumerQ.start();
        producerQ.start();
        for (int i = 0; i < 5; i++) producerQ.put("item" + i);
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String s = got.poll(5, TimeUnit.SECONDS);
            if (s == null) throw new AssertionError("queue item " + i + " not delivered; got " + items);
            items.add(s);
        }
        Check.eq("fifo", Arrays.asList("item0", "item1", "item2", "item3", "item4"), items);
        // SimpleDistributedQueue: offer / take across two clients
        SimpleDistributedQueue sp = new SimpleDistributedQueue(c.curator(), c.p("sq"));
        SimpleDistributedQueue sc = new SimpleDistributedQueue(c.curator(), c.p("sq"));
        Check.eq("empty poll", null, sc.poll());
        sp.offer("x".getBytes());
        sp.offer("y".getBytes());
        Check.eq("take x", "x".getBytes(), sc.take());
        Check.eq("poll y", "y".getBytes(), sc.poll(2, TimeUnit.SECONDS));
        Check.eq("drained", null, sc.poll(200, TimeUnit.MILLISECONDS));
    }

    static void sharedCount(Ctx c) throws Exception {
        List<SharedCount> counts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            SharedCount sc = new SharedCount(c.curator(), c.p("count"), 0);
            sc.start();
            c.track(sc::close);
            counts.add(sc);
        }
        VersionedValue<Integer> stale = counts.get(0).getVersionedValue();
        List<Thread> ts = new ArrayList<>();
        AtomicInteger failedCas = new AtomicInteger();
        List<String> errors = new ArrayList<>();
        for (SharedCount sc : counts) {
            Thread t = new Thread(() -> {
                try {
                    for (int n = 0; n < 10; n++) {
                        while (true) {
                            VersionedValue<Integer> v = sc.getVersionedValue();
                            if (sc.trySetCount(v, v.getValue() + 1)) break;
                            failedCas.incrementAndGet();
                        }
                    }
                } catch (Exception e) {
                    synchronized (errors) { errors.add(String.valueOf(e)); }
                }
            });
            t.start();
            ts.add(t);
        }
        long end = System.currentTimeMillis() + 15000;
        for (Thread t : ts) t.join(Math.max(1, end - System.currentTimeMillis()));
        Check.eq("errors", new ArrayList<String>(), errors);
        CuratorFramework cf = c.curator();
        byte[] raw = cf.getData().forPath(c.p("count"));
        Check.eq("final count", 30, java.nio.ByteBuffer.wrap(raw).getInt());
        Check.eq("znode version = successful sets", 30, cf.checkExists().forPath(c.p("count")).getVersion());
        Check.that("stale CAS rejected", !counts.get(0).trySetCount(stale, 99));
    }

    static void transaction(Ctx c) throws Exception {
        CuratorFramework cf = c.curator();
        String a = c.p("a"), b = c.p("b");
        cf.create().forPath(b, "x".getBytes());
        List<CuratorTransactionResult> r = cf.transaction().forOperations(
                cf.transactionOp().create().forPath(a, "1".getBytes()),
                cf.transactionOp().setData().forPath(a, "2".getBytes()),
                cf.transactionOp().check().withVersion(1).forPath(a),
                cf.transactionOp().delete().forPath(b));
        Check.eq("count", 4, r.size());
        Check.eq("types", Arrays.asList(OperationType.CREATE, OperationType.SET_DATA, OperationType.CHECK,
                OperationType.DELETE), Arrays.asList(r.get(0).getType(), r.get(1).getType(), r.get(2).getType(),
                r.get(3).getType()));
        Check.eq("create result path", a, r.get(0).getResultPath());
        Check.eq("set stat version", 1, r.get(1).getResultStat().getVersion());
        Check.eq("data", "2".getBytes(), cf.getData().forPath(a));
        Check.eq("b deleted", null, cf.checkExists().forPath(b));
        try {
            cf.transaction().forOperations(
                    cf.transactionOp().create().forPath(b, "1".getBytes()),
                    cf.transactionOp().check().withVersion(7).forPath(a));
            throw new AssertionError("failing transaction succeeded");
        } catch (KeeperException e) {
            Check.eq("failure code", KeeperException.Code.BADVERSION, e.code());
        }
        Check.eq("rolled back", null, cf.checkExists().forPath(b));
    }
}
