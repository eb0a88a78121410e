#!/usr/bin/env python3
"""How Berth holds up as PostHog instances add up: one Berth process (release build when there is
one), the local control plane, loopback only, bounded.

For 1, 5, 10 and 20 instances (each in its own namespace) it prints:
  - create: the median time of `POST /instances?wait=true` for the instances added in that step;
  - GET instance, list and instance page (HTML): p50 of 20 requests each, the GETs going round the
    instances, measured once every pod of the instances is running (before stop 33, 5 s after the
    last create, while the cluster still started the new ones);
  - (before the first step) RSS at start, and idle once it has served its pages with no instance;
  - RSS once the watches have settled, and its anonymous part (heap and stacks; the rest is the
    binary's own code, file-backed);
  - SSE: a replica change of capture (1 -> 2) on one instance, from the moment the apiserver
    reports the new pod Ready (this script's own pod watch) to the `health` event that shows
    capture 2/2 ready; p50 and p95 over 10 changes (20 at the last step). The time from the
    change's answer to that event is printed as well.
Then it deletes every instance, waits until their pods are gone, and prints RSS (and its
anonymous part) again, 5, 30 and 100 seconds later: by then every watch no instance needs has
stopped (a minute after its kind was last needed, see `health::watch::IDLE`), and the allocator
has handed free pages back. It compares that with both idle figures, and says where the
anonymous part is (heap, allocator arenas, thread stacks, other).

Usage: end2end/bench/scale.py [STEPS]   (default "1,5,10,20"; needs end2end/cluster/up)
"""
import http.client, json, os, statistics, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Berth, Kube, close, kubeconfig, pct, profile  # noqa: E402

steps = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "1,5,10,20").split(",")]
stamp = str(int(time.time()))[-6:]
berth = Berth(int(os.environ.get("SCALE_PORT", "18383")))
kube = Kube()
instances = []  # namespaces, each with instance "ph"


def timed(f, n=20):
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        status = f(i)
        out.append((time.perf_counter() - t0) * 1000)
        assert status == 200, status
    return pct(out, 50)


def capture_ready_watch(namespace, on_ready):
    """Watches capture's pods in `namespace` straight from the apiserver; calls on_ready(n, at)
    each time the number of Ready pods changes. Returns a function that stops the watch."""
    conn = http.client.HTTPSConnection(kube.host, int(kube.port), context=kube.context, timeout=600)
    conn.request("GET", f"/api/v1/namespaces/{namespace}/pods?watch=1&labelSelector=berth.dev/component%3Dcapture",
                 headers={"authorization": f"Bearer {kube.token}"})
    r = conn.getresponse()

    def follow():
        ready = {}
        try:
            for line in iter(r.readline, b""):
                if not line.strip():
                    continue
                event = json.loads(line)
                pod = event["object"]
                ok = event["type"] != "DELETED" and pod["metadata"].get("deletionTimestamp") is None and any(
                    c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))
                before = sum(ready.values())
                ready[pod["metadata"]["name"]] = ok
                if sum(ready.values()) != before:
                    on_ready(sum(ready.values()), time.perf_counter())
        except Exception:  # closed under it: http.client fails in several ways
            pass
    threading.Thread(target=follow, daemon=True).start()
    return lambda: close(conn)


def freshness(namespace, changes):
    """(p50, p95) of pod Ready -> SSE, and p50 of answer -> SSE, in ms, over `changes` scale-ups."""
    cond = threading.Condition()
    seen = {"ready_at": {}, "sse_at": {}}

    def on_ready(n, at):
        with cond:
            seen["ready_at"].setdefault(n, at)
            cond.notify_all()

    def on_event(kind, data, at):
        if kind != "health":
            return
        for c in data.get("components", []):
            if c.get("id") == "capture" and c["podsReady"] == c["podsTotal"]:
                with cond:
                    seen["sse_at"].setdefault(c["podsReady"], at)
                    cond.notify_all()

    closers = [capture_ready_watch(namespace, on_ready), berth.events(namespace, "ph", on_event)]
    time.sleep(1)
    base = f"/api/v1/instances/{namespace}/ph"
    ready_to_sse, answer_to_sse = [], []
    for _ in range(changes):
        for replicas in (2, 1):
            with cond:
                seen["ready_at"].pop(replicas, None)
                seen["sse_at"].pop(replicas, None)
            status, view = berth.request("GET", base)
            edits = [{"type": "replicas", "component": "capture", "replicas": replicas}]
            status, preview = berth.request("POST", f"{base}/changes/preview", {"baseRevision": view["revision"], "edits": edits})
            assert status == 200, preview
            status, op = berth.request("POST", f"{base}/changes?wait=true",
                                       {"baseRevision": view["revision"], "edits": edits, "planHash": preview["planHash"]})
            answered = time.perf_counter()
            assert status == 200 and op["status"] == "succeeded", op
            with cond:
                if not cond.wait_for(lambda: replicas in seen["sse_at"] and (replicas == 1 or replicas in seen["ready_at"]), timeout=60):
                    raise SystemExit(f"capture never showed {replicas}/{replicas} on the stream of {namespace}")
                if replicas == 2:
                    ready_to_sse.append((seen["sse_at"][2] - seen["ready_at"][2]) * 1000)
                    answer_to_sse.append((seen["sse_at"][2] - answered) * 1000)
    for close_stream in closers:
        close_stream()
    return pct(ready_to_sse, 50), pct(ready_to_sse, 95), pct(answer_to_sse, 50)


try:
    time.sleep(3)
    idle = berth.rss_mb()
    print(f"berth {profile} build, pid {berth.process.pid}; idle RSS {idle:.1f} MB (anonymous {berth.rss_mb('RssAnon'):.1f})")
    cookie = {"cookie": berth.session_cookie()}
    page_conn = http.client.HTTPConnection("127.0.0.1", berth.port, timeout=60)
    # Idle once it has served its pages and API with no instance: what a console that has been
    # used, and has nothing deployed, holds (the code those requests ran is resident by then).
    for path in ("/", "/templates"):
        page_conn.request("GET", path, headers=cookie)
        page_conn.getresponse().read()
    berth.request("GET", "/api/v1/instances")
    berth.request("GET", "/api/v1/templates")
    time.sleep(12)
    warm = berth.rss_mb()
    idle_parts = berth.anon_breakdown()
    print(f"idle after serving its pages with no instance: RSS {warm:.1f} MB (anonymous {berth.rss_mb('RssAnon'):.1f})")

    def page(i):
        page_conn.request("GET", f"/instances/{instances[i % len(instances)]}/ph", headers=cookie)
        r = page_conn.getresponse()
        r.read()
        return r.status

    print(f"{'instances':>9} {'create':>9} {'GET inst':>9} {'list':>8} {'page':>8} {'RSS MB':>7} {'anon':>5} {'SSE p50':>8} {'SSE p95':>8} {'answer->SSE':>11}")
    for count in steps:
        created = []
        while len(instances) < count:
            ns = f"scale-{stamp}-{len(instances)}"
            t0 = time.perf_counter()
            status, op = berth.request("POST", "/api/v1/instances?wait=true",
                                       {"template": "posthog", "namespace": ns, "name": "ph", "inputs": {"platform": "kubernetes"}})
            created.append((time.perf_counter() - t0) * 1000)
            assert status == 201 and op["status"] == "succeeded", (status, op)
            instances.append(ns)
        # Measured once the new instances' pods are all running, so that the figures are Berth's
        # at this many instances rather than the cluster still starting the last few.
        kube.settle(instances, limit_s=120)
        time.sleep(5)
        rss, anon = berth.rss_mb(), berth.rss_mb("RssAnon")
        get = timed(lambda i: berth.request("GET", f"/api/v1/instances/{instances[i % len(instances)]}/ph")[0])
        listed = timed(lambda i: berth.request("GET", "/api/v1/instances")[0])
        html = timed(page)
        sse50, sse95, answer = freshness(instances[0], 20 if count == steps[-1] else 10)
        print(f"{count:9d} {statistics.median(created):7.0f}ms {get:7.1f}ms {listed:6.1f}ms {html:6.1f}ms {rss:7.1f} {anon:5.1f} "
              f"{sse50:6.0f}ms {sse95:6.0f}ms {answer:9.0f}ms", flush=True)
    for ns in instances:
        status, op = berth.request("DELETE", f"/api/v1/instances/{ns}/ph?wait=true")
        assert status == 200, op
    kube.wait_pods_gone(instances)
    time.sleep(5)
    after5 = (berth.rss_mb(), berth.rss_mb("RssAnon"))
    time.sleep(25)
    print(f"deleted all {len(instances)}: RSS {after5[0]:.1f} MB (anonymous {after5[1]:.1f}) after 5 s, "
          f"{berth.rss_mb():.1f} MB (anonymous {berth.rss_mb('RssAnon'):.1f}) after 30 s", flush=True)
    time.sleep(70)
    settled = berth.rss_mb()
    print(f"after 100 s: RSS {settled:.1f} MB (anonymous {berth.rss_mb('RssAnon'):.1f}), "
          f"{settled / idle:.2f}x idle at start ({idle:.1f} MB), {settled / warm:.2f}x idle after serving ({warm:.1f} MB)")
    print("anonymous now, MB: " + ", ".join(f"{k} {v:.1f}" for k, v in berth.anon_breakdown().items())
          + "; at idle: " + ", ".join(f"{k} {v:.1f}" for k, v in idle_parts.items()))
finally:
    berth.stop()
    if instances:
        subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", "delete", "namespace", *instances, "--wait=false"],
                       capture_output=True)
