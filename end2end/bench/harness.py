"""What the benchmark scripts share: a Berth process of their own (a fresh database, an admin
token, the release build when there is one), its REST API and RSS, the local control plane's
apiserver spoken to directly (bearer token from the kubeconfig, keep-alive), and percentiles.
Loopback only."""
import base64, http.client, json, os, ssl, subprocess, tempfile, threading, time, urllib.error, urllib.request

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/berth/cargo-target"))
profile = os.environ.get("BERTH_PROFILE") or ("release" if os.path.exists(os.path.join(target, "release", "berth")) else "debug")
# BERTH_BIN runs another build (an earlier one, to compare in the same run).
binary = os.environ.get("BERTH_BIN") or os.path.join(target, profile, "berth")
kubeconfig = os.environ.get("KUBECONFIG", os.path.join(repo, "end2end/cluster/.run/kubeconfig"))


def pct(values, p):
    """The p-th percentile (nearest rank), 0 for no values."""
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def close(conn):
    """Closes a streaming connection from another thread (its reader then sees the end)."""
    try:
        conn.sock.shutdown(2)
    except (OSError, AttributeError):
        pass
    conn.close()


class Berth:
    """`berth serve` on 127.0.0.1:`port` over a fresh database in a temporary directory."""

    def __init__(self, port, env=None, args=()):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="berth-bench-")
        db = os.path.join(self.dir, "berth.db")
        self.token = subprocess.run([binary, "token", "create", "--role", "admin", "--name", "bench", "--db", db],
                                    capture_output=True, text=True, check=True).stdout.strip()
        self.log_path = os.path.join(self.dir, "berth.log")
        log = open(self.log_path, "w")
        # BERTH_WRAP runs it under a profiler, e.g. "heaptrack -o /tmp/berth" (RSS is then the
        # profiler's process, not Berth's).
        wrap = os.environ.get("BERTH_WRAP", "").split()
        self.process = subprocess.Popen([*wrap, binary, "serve", *args], cwd=repo, stdout=log, stderr=log,
                                        env={**os.environ, "KUBECONFIG": kubeconfig, "BERTH_ADDR": f"127.0.0.1:{port}",
                                             "BERTH_DB": db, "RUST_LOG": os.environ.get("BENCH_LOG", "warn"), **(env or {})})
        self.headers = {"content-type": "application/json", "authorization": f"Bearer {self.token}"}
        self.local = threading.local()  # the keep-alive connection of each thread (`call`)
        for _ in range(150):
            try:
                status, health = self.request("GET", "/healthz", timeout=2)
                if status == 200 and health["cluster"]["reachable"]:
                    return
            except Exception:
                pass
            time.sleep(0.2)
        raise SystemExit(f"berth did not come up with a reachable cluster; see {self.log_path}")

    def request(self, method, path, body=None, timeout=300):
        """(status, JSON body or raw bytes)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if r.headers.get_content_type() == "application/json" and raw else raw)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw

    def call(self, method, path, body=None, timeout=300):
        """(status, parsed JSON) over one keep-alive connection per thread, as a script's HTTP
        session would: what the timed calls of `apply-vs-kubectl.py` use, so that Berth is timed
        with the same kind of client as the apiserver (urllib opens a connection a call)."""
        local = self.local
        data = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):
            if getattr(local, "conn", None) is None:
                local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                local.conn.request(method, path, body=data, headers=self.headers)
                r = local.conn.getresponse()
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
            except (http.client.HTTPException, OSError):
                local.conn = None
                if attempt:
                    raise

    def session_cookie(self):
        """Signs in as a browser does (`/login?token=`), for the HTML pages."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", f"/login?token={self.token}")
        r = conn.getresponse()
        r.read()
        cookie = r.getheader("set-cookie", "").split(";")[0]
        assert cookie, f"no session cookie from /login ({r.status})"
        return cookie

    def rss_mb(self, field="VmRSS"):
        """Resident memory in MB: all of it (VmRSS), or its anonymous part (RssAnon: the heap and
        stacks, without the binary's own pages, which are file-backed and reclaimable)."""
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def anon_breakdown(self):
        """Where the anonymous memory is, from /proc/PID/smaps: the main heap, the allocator's
        other arenas (64 MiB reservations), thread stacks (mappings right after a guard page) and
        the rest, in MB."""
        parts = {"heap": 0, "arenas": 0, "stacks": 0, "other": 0}
        previous_guard = False
        kind = None
        with open(f"/proc/{self.process.pid}/smaps") as f:
            for line in f:
                head = line.split()
                if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                    lo, hi = (int(x, 16) for x in head[0].split("-"))
                    name = head[5] if len(head) > 5 else ""
                    size = hi - lo
                    if name == "[heap]":
                        kind = "heap"
                    elif name:
                        kind = None
                    elif previous_guard and head[1].startswith("rw"):
                        kind = "stacks"
                    elif size in (64 << 20, 128 << 20) or (size < (64 << 20) and lo % (64 << 20) == 0):
                        kind = "arenas"
                    else:
                        kind = "other"
                    previous_guard = head[1] == "---p" and not name
                elif head[0] == "Anonymous:" and kind:
                    parts[kind] += int(head[1])
        return {k: v / 1024 for k, v in parts.items()}

    def events(self, namespace, name, on_event):
        """Follows the instance's event stream on a thread, calling on_event(kind, data, at).
        Returns a function that closes the stream."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn.request("GET", f"/api/v1/instances/{namespace}/{name}/events", headers=self.headers)
        r = conn.getresponse()

        def follow():
            kind = None
            try:
                for line in iter(r.readline, b""):
                    if line.startswith(b"event:"):
                        kind = line[6:].strip().decode()
                    elif line.startswith(b"data:"):
                        on_event(kind, json.loads(line[5:]), time.perf_counter())
            except Exception:  # closed under it: http.client fails in several ways
                pass
        threading.Thread(target=follow, daemon=True).start()
        return lambda: close(conn)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


class Kube:
    """The apiserver of the kubeconfig's current context, with its bearer token, over one
    keep-alive connection per thread."""

    def __init__(self):
        text = open(kubeconfig).read()
        field = lambda key: text.split(f"{key}: ", 1)[1].split("\n", 1)[0].strip()
        self.host, self.port = field("server").removeprefix("https://").rsplit(":", 1)
        self.token = field("token")
        self.context = ssl.create_default_context(cadata=base64.b64decode(field("certificate-authority-data")).decode())
        self.context.check_hostname = False
        self.local = threading.local()

    def connection(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPSConnection(self.host, int(self.port), context=self.context, timeout=120)
        return self.local.conn

    def request(self, method, path, body=None, content_type="application/json"):
        """(status, parsed JSON)."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        status, raw = self.send(method, path, data, {"content-type": content_type, "accept": "application/json"})
        return status, json.loads(raw or b"null")

    def raw(self, path):
        """(status, body bytes) of a GET that answers something other than JSON."""
        return self.send("GET", path)

    def send(self, method, path, data=None, headers=None):
        """(status, body bytes), on this thread's connection, opened again once if it had closed."""
        headers = {"authorization": f"Bearer {self.token}", **(headers or {})}
        for attempt in (0, 1):
            conn = self.connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                r = conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.local.conn = None
                if attempt:
                    raise

    def settle(self, namespaces, limit_s=30):
        """Waits (up to `limit_s`) until the controllers and KWOK have finished with the
        namespaces' objects: every pod there running (or done), none being deleted, and as many
        as half a second before."""
        def running():
            pods = [p for ns in namespaces for p in self.request("GET", f"/api/v1/namespaces/{ns}/pods")[1]["items"]]
            return len(pods), all(p.get("status", {}).get("phase") in ("Running", "Succeeded")
                                  and not p["metadata"].get("deletionTimestamp") for p in pods)
        deadline = time.monotonic() + limit_s
        before = None
        while time.monotonic() < deadline:
            now = running()
            if now[1] and now == before:
                return
            before = now
            time.sleep(0.5)

    def wait_pods_gone(self, namespaces, limit_s=120):
        """Waits (up to `limit_s`) until no pod Berth manages is left in `namespaces`: the garbage
        collector removes pods and claims after their owners."""
        selector = "labelSelector=app.kubernetes.io/managed-by%3Dberth"
        for _ in range(limit_s):
            if not any(self.request("GET", f"/api/v1/namespaces/{ns}/pods?{selector}")[1]["items"] for ns in namespaces):
                return
            time.sleep(1)
