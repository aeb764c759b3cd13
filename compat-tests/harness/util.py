"""Small helpers shared by the test modules."""
import time


def wait_until(pred, timeout=10.0, interval=0.05):
    """Poll `pred` until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    value = pred()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = pred()
    return value


class EventLog:
    """Thread-safe list of kazoo WatchedEvents, usable as a watch callback."""

    def __init__(self):
        import threading
        self.lock = threading.Lock()
        self.items = []

    def __call__(self, event):
        with self.lock:
            self.items.append((event.type, event.path))

    def wait(self, n, timeout=5.0):
        wait_until(lambda: len(self.items) >= n, timeout)
        with self.lock:
            return list(self.items)


def read_until_closed(sock, wait=3.0):
    """Bytes a server sends on `sock` within `wait` seconds, and whether it closed."""
    import socket
    sock.settimeout(wait)
    data, closed = b"", False
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                closed = True
                break
            data += chunk
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    return data, closed
