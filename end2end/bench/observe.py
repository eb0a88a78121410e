#!/usr/bin/env python3
"""What following Events and logs costs Berth in memory: one Berth process (release build when
there is one), one PostHog instance (37 objects, 14 pods) on the local control plane, loopback
only, for DURATION seconds (default 600).

While it runs:
  - every pod's log is followed through Berth (`.../logs?follow=true`, one stream per pod); KWOK
    serves each from a file of this script's (a `Logs` object per pod), to which a writer
    appends LINES_PER_S lines a second per pod;
  - the instance's event stream is followed (one SSE client), and a Warning Event about one of
    its pods is created every EVENT_EVERY seconds (a different pod each time), so Berth keeps,
    counts and pushes them.
It samples Berth's RSS every 10 seconds and prints the baseline (the instance deployed and viewed,
no streams open), the largest and the last sample, and the growth over the baseline; the lines
and events received; and, for the same pods followed the same way by `kubectl logs -f`, the
total RSS of those kubectl processes at the end (a reference, not a goal).

Usage: end2end/bench/observe.py [DURATION]   (needs end2end/cluster/up)
"""
import http.client, json, os, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Berth, Kube, close, kubeconfig, profile  # noqa: E402

duration = int(sys.argv[1]) if len(sys.argv) > 1 else 600
lines_per_s = float(os.environ.get("LINES_PER_S", "5"))
event_every = float(os.environ.get("EVENT_EVERY", "2"))
namespace = f"berth-bench-observe-{str(int(time.time()))[-6:]}"
berth = Berth(int(os.environ.get("OBSERVE_PORT", "18484")))
kube = Kube()
logdir = tempfile.mkdtemp(prefix="berth-observe-")


def cri(text):
    return f"2026-11-26T05:00:00.000000000Z stdout F {text}\n".encode()


status, op = berth.request("POST", "/api/v1/instances?wait=true",
                           {"template": "posthog", "namespace": namespace, "name": "ph"})
assert status == 201, (status, op)
base = f"/api/v1/instances/{namespace}/ph"
for _ in range(600):
    status, view = berth.request("GET", base)
    if view["health"]["state"] == "Healthy":
        break
    time.sleep(0.5)
objects = sum(len(c["objects"]) for c in view["components"])
pods = [(c["id"], p["name"]) for c in view["components"] for p in c["pods"] if p["phase"] == "Running"]
files = {}
for component, pod in pods:
    path = os.path.join(logdir, f"{pod}.log")
    with open(path, "wb") as f:
        f.write(cri(f"{pod} starting"))
    files[pod] = path
    status, made = kube.request("POST", f"/apis/kwok.x-k8s.io/v1alpha1/namespaces/{namespace}/logs", {
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs", "metadata": {"name": pod},
        "spec": {"logs": [{"logsFile": path, "follow": True}]}})
    assert status == 201, (status, made)
time.sleep(30)
baseline = berth.rss_mb()
print(f"profile={profile} objects={objects} pods followed={len(pods)} duration={duration}s "
      f"lines/s per pod={lines_per_s} a warning every {event_every}s")

stop = threading.Event()
received = {"lines": 0, "events": 0}
lock = threading.Lock()


def follow_log(component, pod):
    conn = http.client.HTTPConnection("127.0.0.1", berth.port, timeout=duration + 120)
    conn.request("GET", f"{base}/logs?component={component}&pod={pod}&follow=true&tailLines=10",
                 headers=berth.headers)
    r = conn.getresponse()
    assert r.status == 200, r.status
    streams.append(conn)
    try:
        for line in iter(r.readline, b""):
            if line.startswith(b"event: line"):
                with lock:
                    received["lines"] += 1
    except Exception:
        pass


streams = []
for component, pod in pods:
    threading.Thread(target=follow_log, args=(component, pod), daemon=True).start()


def on_event(kind, _data, _at):
    if kind == "k8s-event":
        with lock:
            received["events"] += 1


stop_events = berth.events(namespace, "ph", on_event)


def write_lines():
    n = 0
    while not stop.is_set():
        n += 1
        for pod, path in files.items():
            with open(path, "ab") as f:
                f.write(cri(f"{pod} line {n}: processed a batch of 100 events in 12 ms"))
        stop.wait(1 / lines_per_s)


def make_events():
    n = 0
    while not stop.is_set():
        _, pod = pods[n % len(pods)]
        n += 1
        kube.request("POST", f"/api/v1/namespaces/{namespace}/events", {
            "metadata": {"generateName": "bench-"},
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": namespace, "apiVersion": "v1"},
            "type": "Warning", "reason": "Unhealthy", "message": f"Readiness probe failed (bench {n})",
            "count": 1, "source": {"component": "kubelet"}})
        stop.wait(event_every)


threading.Thread(target=write_lines, daemon=True).start()
threading.Thread(target=make_events, daemon=True).start()

samples = []
t0 = time.time()
while time.time() - t0 < duration:
    time.sleep(10)
    samples.append(berth.rss_mb())
stop.set()
time.sleep(2)
print(f"RSS baseline {baseline:.1f} MB; while following: max {max(samples):.1f} MB, "
      f"last {samples[-1]:.1f} MB; growth {samples[-1] - baseline:+.1f} MB (max {max(samples) - baseline:+.1f})")
print("RSS each minute (MB): " + " ".join(f"{x:.1f}" for x in samples[5::6]))
print(f"received {received['lines']} log lines and {received['events']} pushed Events "
      f"({received['lines'] / duration:.0f} lines/s)")

# The same pods followed by kubectl, for reference.
kubectls = [subprocess.Popen(["kubectl", "--kubeconfig", kubeconfig, "-n", namespace, "logs", "-f", "--tail=10", pod],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _, pod in pods]
time.sleep(10)
total = 0.0
for p in kubectls:
    try:
        with open(f"/proc/{p.pid}/status") as f:
            total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        pass
    p.terminate()
print(f"kubectl logs -f for the same {len(kubectls)} pods: {total:.1f} MB of RSS in total")

for conn in streams:
    close(conn)
stop_events()
berth.request("DELETE", f"{base}?wait=true")
kube.request("DELETE", f"/api/v1/namespaces/{namespace}")
berth.stop()
