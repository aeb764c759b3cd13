// Entry point of the Java stock-client compatibility program. Usage:
//   java -cp <build/classes:jars> rzkcompat.Main host:port [case ...]   (or --list)
// Runs each named case against the server with a per-case time limit and prints
// "PASS name" / "FAIL name: reason", then "N passed, M failed"; exit status 1 on any failure.
package rzkcompat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZKUtil;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

public final class Main {
    interface Case { void run(Ctx c) throws Exception; }

    static final long CASE_LIMIT_S = 25;
    static final long RUN_LIMIT_MS = 150_000; // keeps a badly hanging server from stalling CI
    static final Map<String, Case> CASES = new LinkedHashMap<>();

    static void add(String name, Case c) { CASES.put(name, c); }

    public static void main(String[] args) throws Exception {
        BasicCases.register();
        WatchCases.register();
        MultiCases.register();
        AclCases.register();
        SessionCases.register();
        CuratorCases.register();
        if (args.length == 1 && args[0].equals("--list")) {
            CASES.keySet().forEach(System.out::println);
            return;
        }
        if (args.length < 1) {
            System.err.println("usage: rzkcompat.Main host:port [case ...] | --list");
            System.exit(2);
        }
        String hp = args[0];
        // a request the server never answers fails with RequestTimeout instead of hanging
        System.setProperty("zookeeper.request.timeout", "10000");
        long runEnd = System.currentTimeMillis() + RUN_LIMIT_MS;
        List<String> names = args.length > 1
                ? Arrays.asList(args).subList(1, args.length) : new ArrayList<>(CASES.keySet());
        String root = "/jcompat-" + Long.toHexString(System.nanoTime());
        Ctx admin = new Ctx(hp, root);
        ZooKeeper zk;
        try {
            zk = admin.open();
            zk.create(root, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (Exception | AssertionError e) {
            System.out.println("FAIL setup: cannot connect/create " + root + ": " + describe(e));
            System.out.println("0 passed, 1 failed");
            System.out.flush();
            System.exit(1);
            return;
        }
        int passed = 0, failed = 0;
        ExecutorService ex = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        for (String name : names) {
            Case c = CASES.get(name);
            String err = null;
            long t0 = System.currentTimeMillis();
            Ctx ctx = new Ctx(hp, root + "/" + name);
            if (c == null) {
                err = "unknown case";
            } else if (System.currentTimeMillis() > runEnd) {
                err = "not run: program time limit exceeded";
            } else {
                try {
                    zk.create(ctx.base, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    Future<?> f = ex.submit(() -> { c.run(ctx); return null; });
                    f.get(CASE_LIMIT_S, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    err = describe(e.getCause());
                } catch (TimeoutException e) {
                    err = "case timed out after " + CASE_LIMIT_S + " s";
                } catch (Exception | AssertionError e) {
                    err = describe(e);
                } finally {
                    ctx.closeAll();
                }
            }
            System.err.println("# " + name + " " + (System.currentTimeMillis() - t0) + " ms");
            if (err == null) { passed++; System.out.println("PASS " + name); }
            else { failed++; System.out.println("FAIL " + name + ": " + err); }
            System.out.flush();
        }
        try { ZKUtil.deleteRecursive(zk, root); } catch (Exception ignored) { }
        admin.closeAll();
        System.out.println(passed + " passed, " + failed + " failed");
        System.out.flush();
        System.exit(failed == 0 ? 0 : 1);
    }

    static String describe(Throwable t) {
        String m = (t.getClass().getSimpleName() + ": " + t.getMessage()).replace('\n', ' ');
        for (StackTraceElement s : t.getStackTrace()) {
            String cls = s.getClassName();
            if (cls.startsWith("rzkcompat.") && !cls.equals("rzkcompat.Check") && !cls.equals("rzkcompat.Events")) {
                return m + " (" + s.getFileName() + ":" + s.getLineNumber() + ")";
            }
        }
        return m;
    }
}
