// Assertion helpers for the stock-client compatibility cases: exact-value checks that
// throw AssertionError with a readable message, and "expect this KeeperException code".
package rzkcompat;

import java.util.Arrays;
import java.util.Objects;
import org.apache.zookeeper.KeeperException;

final class Check {
    private Check() {}

    interface Action { void run() throws Exception; }

    static void eq(String what, Object want, Object got) {
        boolean same = (want instanceof byte[] && got instanceof byte[])
                ? Arrays.equals((byte[]) want, (byte[]) got) : Objects.equals(want, got);
        if (!same) throw new AssertionError(what + ": want " + show(want) + " got " + show(got));
    }

    static void that(String what, boolean cond) {
        if (!cond) throw new AssertionError(what);
    }

    /** Runs the action and requires it to fail with exactly this server error code. */
    static KeeperException code(String what, KeeperException.Code want, Action a) throws Exception {
        try {
            a.run();
        } catch (KeeperException e) {
            if (e.code() != want) throw new AssertionError(what + ": want " + want + " got " + e.code());
            return e;
        }
        throw new AssertionError(what + ": want " + want + " but call succeeded");
    }

    static String show(Object o) {
        if (o instanceof byte[]) return "bytes" + Arrays.toString((byte[]) o);
        return String.valueOf(o);
    }
}
