"""A real HTTP server on 127.0.0.1 that plays a webhook receiver in tests."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers each POST with the next scripted status (then 200), recording what came in.

    ``delay`` seconds of think time per request make a receiver as slow as a real one."""

    def __init__(self, *, delay: float = 0.0):
        self.script: list[int | str] = []
        self.requests: list[tuple[dict, bytes]] = []
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    receiver.requests.append((self.headers, body))  # headers: case-insensitive lookup
                    step = receiver.script.pop(0) if receiver.script else 200
                time.sleep(delay)
                if step == "slow":
                    time.sleep(1.5)
                    step = 200
                self.send_response(step)
                if step == 302:
                    self.send_header("Location", "/elsewhere")
                self.end_headers()
                self.wfile.write(b"receiver says %d" % step)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/grid"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
