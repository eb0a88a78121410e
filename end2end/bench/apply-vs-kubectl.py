#!/usr/bin/env python3
"""Apply the whole PostHog stack through Berth and through `kubectl apply --server-side`, on the
same local cluster in the same run, and report the times and their ratio. Also times Berth's change
preview on the deployed instance.

Usage: end2end/bench/apply-vs-kubectl.py [ROUNDS]   (needs end2end/cluster/up and a built berth)
Each round uses fresh namespaces, so every apply creates every object.
"""
import json, os, statistics, subprocess, sys, tempfile, time, urllib.request, urllib.error

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/berth/cargo-target"))
# The release build when there is one (cargo build --release -p berth), else the debug build.
profile = os.environ.get("BERTH_PROFILE") or ("release" if os.path.exists(os.path.join(target, "release", "berth")) else "debug")
berth = os.path.join(target, profile, "berth")
kubeconfig = os.environ.get("KUBECONFIG", os.path.join(repo, "end2end/cluster/.run/kubeconfig"))
build = subprocess.run([os.path.join(repo, "end2end/cluster/build")], env={**os.environ, "BUILD_KUBECTL": "1"},
                       capture_output=True, text=True, check=True)
kubectl = os.path.join(build.stdout.strip().splitlines()[-1], "kubectl")
port = int(os.environ.get("BENCH_PORT", "18181"))
base = f"http://127.0.0.1:{port}"

def request(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")

def kube(*args):
    return subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", *args], capture_output=True, text=True)

db = tempfile.mkdtemp(prefix="berth-bench-")
token = subprocess.run([berth, "token", "create", "--role", "admin", "--name", "bench", "--db", os.path.join(db, "berth.db")],
                       capture_output=True, text=True, check=True).stdout.strip()
server = subprocess.Popen([berth, "serve", "--addr", f"127.0.0.1:{port}", "--db", os.path.join(db, "berth.db"),
                           "--templates-dir", os.path.join(repo, "manifests")],
                          env={**os.environ, "KUBECONFIG": kubeconfig, "RUST_LOG": os.environ.get("BENCH_LOG", "warn")},
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(db, "berth.log"), "w"))
try:
    for _ in range(100):
        try:
            if request("GET", "/healthz")[1]["cluster"]["reachable"]:
                break
        except Exception:
            pass
        time.sleep(0.2)
    berth_times, kubectl_times, preview_times = [], [], []
    stamp = str(int(time.time()))[-6:]
    for i in range(rounds):
        ns_k, ns_b = f"bench-k-{stamp}-{i}", f"bench-b-{stamp}-{i}"
        rendered = subprocess.run([berth, "template", "render", os.path.join(repo, "manifests/posthog/index.yaml"), "--name", "ph",
                                   "--platform-value", f"SEALOS_NAMESPACE={ns_k}"], capture_output=True, text=True, check=True).stdout
        path = os.path.join(db, f"posthog-{i}.yaml")
        open(path, "w").write(rendered)
        kube("create", "namespace", ns_k)
        t0 = time.perf_counter()
        out = kube("apply", "--server-side", "--field-manager=kubectl-bench", "-n", ns_k, "-f", path)
        kubectl_times.append(time.perf_counter() - t0)
        if out.returncode != 0:
            sys.exit(f"kubectl apply failed: {out.stderr}")
        kube("create", "namespace", ns_b)
        t0 = time.perf_counter()
        status, op = request("POST", "/api/v1/instances?wait=true", {"template": "posthog", "namespace": ns_b, "name": "ph"})
        berth_times.append(time.perf_counter() - t0)
        if status != 201 or op["status"] != "succeeded":
            sys.exit(f"berth apply failed: {status} {op}")
        edits = [{"type": "replicas", "component": "capture", "replicas": 3}, {"type": "resources", "component": "worker", "memoryLimit": "2Gi"}]
        for _ in range(5):
            t0 = time.perf_counter()
            status, _ = request("POST", f"/api/v1/instances/{ns_b}/ph/changes/preview", {"baseRevision": 1, "edits": edits})
            preview_times.append(time.perf_counter() - t0)
            assert status == 200, status
        request("DELETE", f"/api/v1/instances/{ns_b}/ph?wait=true")
        kube("delete", "namespace", ns_k, ns_b, "--wait=false")
    med = lambda xs: statistics.median(xs) * 1000
    objects = rendered.count("\n---") + rendered.startswith("---")
    print(f"PostHog stack ({objects} objects), {rounds} rounds, fresh namespaces, same cluster, same run, berth {profile} build:")
    print(f"  kubectl apply --server-side   median {med(kubectl_times):7.1f} ms   (min {min(kubectl_times)*1000:.1f}, max {max(kubectl_times)*1000:.1f})")
    print(f"  berth POST /instances?wait    median {med(berth_times):7.1f} ms   (min {min(berth_times)*1000:.1f}, max {max(berth_times)*1000:.1f})")
    print(f"  ratio berth / kubectl         {med(berth_times) / med(kubectl_times):.2f}   (goal: at most 0.50)")
    print(f"  change preview (diff + dry run) median {med(preview_times):.1f} ms over {len(preview_times)} calls (goal: under 150 ms)")
    print("  berth's time includes rendering, preflight discovery, a dry run of every object and per-object results;")
    print("  kubectl's includes process start, discovery and the apply.")
    print(f"  berth's log: {os.path.join(db, 'berth.log')}")
finally:
    server.terminate()
    server.wait()
