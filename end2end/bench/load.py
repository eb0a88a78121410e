#!/usr/bin/env python3
"""A bounded load on one Berth process, all on loopback, against the local control plane:

  - 20 readers of the instance page (HTML) and the instance API, in turn;
  - 5 writers previewing and applying changes on 3 PostHog instances (a stale base is a 409,
    which is expected: they race one another);
  - 10 open event streams (SSE).

Afterwards the history of each instance is checked against what the writers were told: every
applied change is a revision, no revision is lost or duplicated, numbers run without a gap (of
the newest 100, which is what the store keeps of each instance). It reports requests, 5xx (must
be 0), 409s, p50/p99 latencies and the server's RSS at the start and the end (must stay under
100 MB), and exits non-zero when a check fails.

Usage: end2end/bench/load.py [SECONDS]   (default 120; needs end2end/cluster/up and a built berth)
The release build is used when there is one (BERTH_PROFILE=debug|release chooses); the RSS limit
is LOAD_RSS_LIMIT_MB (default 100), which the test suite's short smoke run on a debug build
raises, since a debug build is larger.
"""
import http.client, os, random, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Berth, kubeconfig, pct  # noqa: E402

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 120.0
namespace = f"berth-load-{int(time.time()) % 1000000}"
names = ["ph-a", "ph-b", "ph-c"]

berth = Berth(int(os.environ.get("LOAD_PORT", "18282")))
port, headers, request = berth.port, berth.headers, berth.request
rss_mb, session_cookie = berth.rss_mb, berth.session_cookie

failures = []
lock = threading.Lock()
latencies = {"read-api": [], "read-page": [], "preview": [], "apply": []}
statuses = {}
applied = {n: [] for n in names}
sse_events = [0]
stop = threading.Event()

def record(kind, started, status):
    took = (time.perf_counter() - started) * 1000
    with lock:
        latencies[kind].append(took)
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 500 or status == 0:
            failures.append(f"{kind}: {status}")

def reader(i):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    page_headers = {"cookie": session_cookie()}
    n = 0
    while not stop.is_set():
        name = names[(i + n) % len(names)]
        page = n % 2 == 1
        path = f"/instances/{namespace}/{name}" if page else f"/api/v1/instances/{namespace}/{name}"
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=page_headers if page else headers)
            r = conn.getresponse()
            r.read()
            record("read-page" if page else "read-api", started, r.status)
        except Exception as e:  # a broken connection is a failure too
            record("read-page" if page else "read-api", started, 0)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n += 1

def writer(i):
    rnd = random.Random(i)
    while not stop.is_set():
        name = rnd.choice(names)
        base = f"/api/v1/instances/{namespace}/{name}"
        status, view = request("GET", base)
        if status != 200:
            record("read-api", time.perf_counter(), status)
            continue
        revision = view["revision"]
        edits = [{"type": "replicas", "component": rnd.choice(["web", "capture", "worker"]), "replicas": rnd.randint(1, 3)}]
        started = time.perf_counter()
        status, preview = request("POST", f"{base}/changes/preview", {"baseRevision": revision, "edits": edits})
        record("preview", started, status)
        if status != 200:
            continue
        started = time.perf_counter()
        status, op = request("POST", f"{base}/changes?wait=true", {"baseRevision": revision, "edits": edits, "planHash": preview["planHash"]})
        record("apply", started, status)
        if status == 200:
            with lock:
                applied[name].append((op["revision"], op["status"]))
        elif status != 409:
            with lock:
                failures.append(f"apply answered {status}: {op}")

def streamer(i):
    name = names[i % len(names)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds + 60)
    conn.request("GET", f"/api/v1/instances/{namespace}/{name}/events", headers=headers)
    r = conn.getresponse()
    if r.status != 200:
        with lock:
            failures.append(f"events answered {r.status}")
        return
    while not stop.is_set():
        line = r.fp.readline()
        if not line:
            break
        if line.startswith(b"event:"):
            with lock:
                sse_events[0] += 1
    conn.close()

try:
    for name in names:
        status, op = request("POST", "/api/v1/instances?wait=true",
                             {"template": "posthog", "namespace": namespace, "name": name, "inputs": {"platform": "kubernetes"}})
        assert status == 201 and op["status"] == "succeeded", (status, op)
    rss_start = rss_mb()
    # LOAD_MIX=streams,readers,writers narrows the load, to find what a cost comes from.
    n_streams, n_readers, n_writers = (int(x) for x in os.environ.get("LOAD_MIX", "10,20,5").split(","))
    threads = [threading.Thread(target=streamer, args=(i,), daemon=True) for i in range(n_streams)]
    threads += [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(n_readers)]
    threads += [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(n_writers)]
    started = time.time()
    for t in threads:
        t.start()
    samples = []
    while time.time() - started < seconds:
        time.sleep(min(10, max(0.1, seconds - (time.time() - started))))
        samples.append(rss_mb())
    stop.set()
    for t in threads[n_streams:]:
        t.join(timeout=120)
    elapsed = time.time() - started
    rss_end = rss_mb()

    # History against what the writers were told.
    for name in names:
        status, body = request("GET", f"/api/v1/instances/{namespace}/{name}/revisions")
        numbers = sorted(r["number"] for r in body["revisions"])
        # The store keeps each instance's newest 100 revisions: older ones may be gone, but
        # what is kept runs without a gap up to the newest.
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))) or (numbers[0] > 1 and len(numbers) != 100):
            failures.append(f"{name}: revision numbers {numbers} have a gap or a duplicate")
        told = sorted(n for n, _ in applied[name])
        if len(set(told)) != len(told):
            failures.append(f"{name}: two applies were told the same revision: {told}")
        changes = [r["number"] for r in body["revisions"] if r["kind"] == "change"]
        if sorted(changes) != [n for n in told if n >= numbers[0]]:
            failures.append(f"{name}: history has changes {changes}, the writers were told {told}")
        for r in body["revisions"]:
            if r["status"] != "succeeded":
                failures.append(f"{name}: revision {r['number']} is {r['status']}")

    total = sum(statuses.values())
    print(f"load: {elapsed:.0f} s, {total} requests ({total / elapsed:.0f}/s), statuses {dict(sorted(statuses.items()))}, "
          f"{sum(len(v) for v in applied.values())} changes applied, {sse_events[0]} SSE events on 10 streams")
    for kind, values in latencies.items():
        print(f"  {kind:10} n={len(values):6}  p50 {pct(values, 50):7.1f} ms  p99 {pct(values, 99):7.1f} ms")
    print(f"  server RSS: {rss_start:.1f} MB at the start, {rss_end:.1f} MB at the end "
          f"(every 10 s: {', '.join(f'{x:.0f}' for x in samples)})")
    limit = float(os.environ.get("LOAD_RSS_LIMIT_MB", "100"))
    if rss_end >= limit:
        failures.append(f"RSS {rss_end:.1f} MB is over {limit:.0f} MB")
    unexpected = {s: c for s, c in statuses.items() if s not in (200, 409)}
    if unexpected:
        failures.append(f"unexpected statuses {unexpected}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures[:20]))
        sys.exit(1)
    print("load: ok (0 5xx, no revision lost or duplicated, only expected 409s)")
finally:
    stop.set()
    for name in names:
        try:
            request("DELETE", f"/api/v1/instances/{namespace}/{name}?wait=true", timeout=120)
        except Exception:
            pass
    berth.stop()
    try:
        subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", "delete", "namespace", namespace, "--wait=false"],
                       capture_output=True)
    except OSError:
        pass  # no kubectl: the instances' objects are deleted; the empty namespace stays
