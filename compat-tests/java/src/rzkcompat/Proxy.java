// Minimal loopback TCP proxy used to starve a session of pings: while "frozen" it drops all
// relayed connections and refuses new ones, so the server sees silence and must expire the
// session on its own timer; after thaw the client reconnects and learns it has expired.
package rzkcompat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

final class Proxy implements AutoCloseable {
    private final ServerSocket server;
    private final String upHost;
    private final int upPort;
    private final List<Socket> live = new ArrayList<>();
    private volatile boolean frozen;

    Proxy(String hostPort) throws Exception {
        int i = hostPort.lastIndexOf(':');
        upHost = hostPort.substring(0, i);
        upPort = Integer.parseInt(hostPort.substring(i + 1));
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    String address() { return "127.0.0.1:" + server.getLocalPort(); }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket down = server.accept();
                if (frozen) { down.close(); continue; }
                Socket up = new Socket(upHost, upPort);
                synchronized (live) { live.add(down); live.add(up); }
                pump(down, up);
                pump(up, down);
            } catch (Exception e) {
                // closed or upstream refused: keep accepting until closed
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) { out.write(buf, 0, n); out.flush(); }
            } catch (Exception ignored) {
                // connection torn down
            } finally {
                try { from.close(); to.close(); } catch (Exception ignored) { }
            }
        }, "proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    void freeze() {
        frozen = true;
        dropAll();
    }

    void thaw() { frozen = false; }

    private void dropAll() {
        synchronized (live) {
            for (Socket s : live) {
                try { s.close(); } catch (Exception ignored) { }
            }
            live.clear();
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
        dropAll();
    }
}
