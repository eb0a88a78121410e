#!/usr/bin/env python3
"""Apply the whole PostHog stack three ways on the same local cluster in the same run, and report
the times and their ratios:

  - Berth: `POST /instances?wait=true` (render, preflight, a dry run of every object, the apply
    tier by tier, per-object results recorded);
  - kubectl: `kubectl apply --server-side` of the rendered stack;
  - the floor: the same server-side-apply PATCHes Berth sends (the objects of its revision, with
    the labels Berth adds as it applies, its installation id among them), straight to the
    apiserver over keep-alive connections: a dry run of every object, then the apply in Berth's
    tiers, 16 at a time within a tier, as Berth does. What any client must pay.

Then a one-object change on the deployed instance (capture's replicas): Berth's apply of a
previewed change (`POST /changes?wait=true` after `changes/preview`) against the floor's dry run
and apply of that one Deployment. The preview's own time is printed too.

Usage: end2end/bench/apply-vs-kubectl.py [ROUNDS]   (needs end2end/cluster/up and a built berth)
ROUNDS is 10 by default (about 9 minutes here): a median of fewer moves by more than Berth's
own part of a create.
Each round uses fresh namespaces, so every create creates every object. Berth dry-runs one
create, untimed, before the first round (its first create after starting reads discovery).
Before each timed step the cluster settles (the pods of the creates before it are all made and
running, and those of the instance the round before deleted are gone), so that no client pays
for another's aftermath, and the three creates take turns going first. A run starts once the
namespaces of the runs before it are gone.

Berth is called over a keep-alive connection, as the floor calls the apiserver.

Each timed step also starts just after the apiserver has collected its garbage (Go's runtime.GC,
which its profiling endpoint runs before a heap profile). A PostHog create makes the apiserver
allocate about 60 MB, and its heap reaches the next collection every few creates: the collection
then costs whichever step is running 2-3x the apiserver's CPU and about 100-150 ms, and it falls
in the same place in each round, so one client could take most of them. Collecting first gives
every step the same heap, which a create's allocations do not fill. The script prints how many
collections finished during the timed creates (a collection that starts during a step and ends
after it is not counted); BENCH_GC_RESET=0 leaves the apiserver's heap alone.
"""
import base64, copy, os, random, re, resource, statistics, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Berth, Kube, binary, kubeconfig, profile, repo  # noqa: E402

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
build = subprocess.run([os.path.join(repo, "end2end/cluster/build")], env={**os.environ, "BUILD_KUBECTL": "1"},
                       capture_output=True, text=True, check=True)
kubectl = os.path.join(build.stdout.strip().splitlines()[-1], "kubectl")
kube = Kube()
pool = ThreadPoolExecutor(16)
PLURALS = {"Deployment": "deployments", "StatefulSet": "statefulsets", "Service": "services", "ConfigMap": "configmaps",
           "Secret": "secrets", "Job": "jobs", "Ingress": "ingresses", "PersistentVolumeClaim": "persistentvolumeclaims",
           "ServiceAccount": "serviceaccounts", "CronJob": "cronjobs", "DaemonSet": "daemonsets"}


def tier(o):
    """Berth's apply tiers (server/src/apply/mod.rs `tier`); PostHog's StatefulSets all back others."""
    kind = o["kind"]
    for t, kinds in ((2, ("ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Secret")), (3, ("PersistentVolumeClaim",)),
                     (4, ("Service",)), (5, ("StatefulSet", "Ingress")), (6, ("Job",)), (7, ("Deployment", "DaemonSet", "CronJob"))):
        if kind in kinds:
            return t
    return 8


def path_of(o, namespace):
    group_version = o["apiVersion"]
    prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    return f"{prefix}/namespaces/{namespace}/{PLURALS[o['kind']]}/{o['metadata']['name']}"


def patch(o, namespace, dry_run=False):
    query = "?fieldManager=berth-floor" + ("&dryRun=All" if dry_run else "")
    status, body = kube.request("PATCH", path_of(o, namespace) + query, body=o, content_type="application/apply-patch+yaml")
    assert status in (200, 201), (status, body)


def floor_apply(objects, namespace):
    """A dry run of every object, then the apply tier by tier, 16 at a time within a tier."""
    list(pool.map(lambda o: patch(o, namespace, dry_run=True), objects))
    for t in sorted({tier(o) for o in objects}):
        list(pool.map(lambda o: patch(o, namespace), [o for o in objects if tier(o) == t]))


MANAGED_BY = "app.kubernetes.io/managed-by"
INSTALLATION = "berth.dev/installation"


def label_installation(meta, installation):
    """Berth's installation label, where Berth puts it as it applies (server/src/manifest.rs
    `stamp_installation`): wherever Berth's labels are. History keeps objects without it."""
    if meta is not None and MANAGED_BY in (meta.get("labels") or {}):
        meta["labels"] = {**meta["labels"], INSTALLATION: installation}


def floor_object(o, namespace, installation):
    """An object of Berth's revision, moved to `namespace`, labelled as Berth applies it: so the
    apiserver tells Berth's watches of it as it tells them of Berth's own. A Secret's redacted
    values are markers, not base64: they are sent encoded."""
    o = copy.deepcopy(o)
    o["metadata"]["namespace"] = namespace
    spec = o.get("spec") or {}
    for meta in [o["metadata"], (spec.get("template") or {}).get("metadata"),
                 (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("metadata"),
                 *[vct.get("metadata") for vct in spec.get("volumeClaimTemplates") or []]]:
        label_installation(meta, installation)
    if o["kind"] == "Secret" and o.get("data"):
        o["data"] = {k: base64.b64encode(str(v).encode()).decode() for k, v in o["data"].items()}
    return o


def wait_for_earlier_runs(limit_s=300):
    """Waits (up to `limit_s`) until the namespaces earlier runs left behind are gone: deleting
    them keeps the apiserver busy, and would land on whichever client runs meanwhile."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        left = [n for n in kube.request("GET", "/api/v1/namespaces")[1]["items"] if n["metadata"]["name"].startswith("bench-")]
        if not left:
            return
        time.sleep(2)
    print(f"  (namespaces of earlier runs still terminating after {limit_s} s)", file=sys.stderr)


def interval(a, b, draws=4000):
    """A 95% bootstrap interval of median(a) / median(b): each round's time on this apiserver
    varies by 2-3x, so one run's ratio of medians moves by about a tenth; this says how much."""
    rng = random.Random(0)
    ratios = sorted(statistics.median(rng.choices(a, k=len(a))) / statistics.median(rng.choices(b, k=len(b)))
                    for _ in range(draws))
    return ratios[int(draws * 0.025)], ratios[int(draws * 0.975) - 1]


def cpu_ticks(pid):
    """The CPU time `pid` has used, in 10 ms ticks (user + system), or None if it cannot be read."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, TypeError):
        return None


def apiserver_pid():
    """The local control plane's kube-apiserver (its pid file beside the kubeconfig), if it is
    the cluster in use."""
    try:
        return int(open(os.path.join(os.path.dirname(kubeconfig), "kube-apiserver.pid")).read())
    except (OSError, ValueError):
        return None


def apiserver_collections():
    """How many garbage collections the apiserver's Go runtime has finished (its metrics), or None."""
    status, body = kube.raw("/metrics")
    found = re.search(rb"^go_gc_duration_seconds_count (\S+)$", body, re.M) if status == 200 else None
    return int(float(found.group(1))) if found else None


GC_RESET = os.environ.get("BENCH_GC_RESET", "1") != "0"


def collect_apiserver_garbage():
    """Has the apiserver collect its garbage now (see the module's doc), if it is asked to and its
    profiling endpoint answers: `?gc=1` runs Go's runtime.GC before taking the heap profile."""
    if GC_RESET:
        status, _ = kube.raw("/debug/pprof/heap?gc=1")
        if status != 200:
            sys.exit(f"the apiserver's /debug/pprof/heap answered {status}; run with BENCH_GC_RESET=0")


def kubectl_run(*args):
    return subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", *args], capture_output=True, text=True)


wait_for_earlier_runs()
berth = Berth(int(os.environ.get("BENCH_PORT", "18181")), args=["--templates-dir", os.path.join(repo, "manifests")])
times = {k: [] for k in ("kubectl", "berth", "floor", "preview", "berth-change", "floor-change")}
# CPU ticks each create step cost: the apiserver's, Berth's, this script's (the floor's client)
# and kubectl's process (its children's, read once it has been waited for).
apiserver = apiserver_pid()
cpu = {step: {"apiserver": [], "berth": [], "script": [], "kubectl": []} for step in ("kubectl", "berth", "floor")}
# The timed steps during which one of the apiserver's garbage collections finished.
collected = {step: 0 for step in ("kubectl", "berth", "floor")}


def children_ticks():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * 100)
# Berth is a server: its first create after starting reads the cluster's discovery documents and
# compiles what it caches. One untimed dry run does that first, so the rounds time what every
# create after it costs.
status, plan = berth.request("POST", "/api/v1/instances", {"template": "posthog", "namespace": "bench-warm-up", "name": "ph",
                                                           "dryRun": True})
assert status == 200, plan
namespaces = []
try:
    stamp = str(int(time.time()))[-6:]
    for i in range(rounds):
        ns_k, ns_b, ns_f = (f"bench-{x}-{stamp}-{i}" for x in "kbf")
        namespaces += [ns_k, ns_b, ns_f]
        rendered = subprocess.run([binary, "template", "render", os.path.join(repo, "manifests/posthog/index.yaml"), "--name", "ph",
                                   "--platform-value", f"SEALOS_NAMESPACE={ns_k}"], capture_output=True, text=True, check=True).stdout
        path = os.path.join(berth.dir, f"posthog-{i}.yaml")
        open(path, "w").write(rendered)
        for ns in (ns_k, ns_b, ns_f):
            kubectl_run("create", "namespace", ns)

        def run_kubectl():
            out = kubectl_run("apply", "--server-side", "--field-manager=kubectl-bench", "-n", ns_k, "-f", path)
            if out.returncode != 0:
                sys.exit(f"kubectl apply failed: {out.stderr}")

        def run_berth():
            status, op = berth.call("POST", "/api/v1/instances?wait=true", {"template": "posthog", "namespace": ns_b, "name": "ph"})
            if status != 201 or op["status"] != "succeeded":
                sys.exit(f"berth apply failed: {status} {op}")

        def run_floor():
            floor_apply(objects, ns_f)

        # The floor sends the objects of Berth's first revision (secret values redacted, which
        # the apiserver takes as any other string), so in the first round Berth goes before it.
        # They are made ready for it before its clock starts.
        if i:
            objects = [floor_object(o, ns_f, installation) for o in revision]
        steps = [("kubectl", run_kubectl), ("berth", run_berth), ("floor", run_floor)]
        order = steps[i % 3:] + steps[:i % 3]
        for name, step in order:
            kube.settle(namespaces)
            collect_apiserver_garbage()
            collections = apiserver_collections()
            pids = {"apiserver": apiserver, "berth": berth.process.pid, "script": os.getpid()}
            ticks = {who: cpu_ticks(pid) for who, pid in pids.items()}
            children = children_ticks()
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
            cpu[name]["kubectl"].append(children_ticks() - children)
            for who, pid in pids.items():
                after = cpu_ticks(pid)
                if after is not None and ticks[who] is not None:
                    cpu[name][who].append(after - ticks[who])
            if collections is not None:
                collected[name] += apiserver_collections() != collections
            if name == "berth" and not i:
                revision = berth.request("GET", f"/api/v1/instances/{ns_b}/ph/revisions/1")[1]["manifests"]
                applied = kube.request("GET", f"/apis/apps/v1/namespaces/{ns_b}/deployments/ph-capture")[1]
                installation = applied["metadata"]["labels"][INSTALLATION]
                objects = [floor_object(o, ns_f, installation) for o in revision]
        kube.settle(namespaces)

        # A one-object change: capture's replicas, previewed, then applied.
        base = f"/api/v1/instances/{ns_b}/ph"
        for n, replicas in enumerate((2, 3, 2)):
            edits = [{"type": "replicas", "component": "capture", "replicas": replicas}]
            collect_apiserver_garbage()
            t0 = time.perf_counter()
            status, preview = berth.call("POST", f"{base}/changes/preview", {"baseRevision": 1 + n, "edits": edits})
            times["preview"].append(time.perf_counter() - t0)
            assert status == 200, preview
            collect_apiserver_garbage()
            t0 = time.perf_counter()
            status, op = berth.call("POST", f"{base}/changes?wait=true",
                                       {"baseRevision": 1 + n, "edits": edits, "planHash": preview["planHash"]})
            times["berth-change"].append(time.perf_counter() - t0)
            assert status == 200 and op["status"] == "succeeded", op
            capture = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "ph-capture")
            changed = {**capture, "spec": {**capture["spec"], "replicas": replicas}}
            collect_apiserver_garbage()
            t0 = time.perf_counter()
            floor_apply([changed], ns_f)
            times["floor-change"].append(time.perf_counter() - t0)
        berth.request("DELETE", f"/api/v1/instances/{ns_b}/ph?wait=true")

    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    objects_n = len(objects)
    print(f"PostHog stack ({objects_n} objects), {rounds} rounds, fresh namespaces, same cluster, same run, berth {profile} build:")
    for k, label in (("kubectl", "kubectl apply --server-side"), ("berth", "berth POST /instances?wait"),
                     ("floor", "floor: dry run + apply, tiers")):
        print(f"  {label:32} median {med[k]:7.1f} ms   (min {min(times[k]) * 1000:.1f}, max {max(times[k]) * 1000:.1f})"
              f"   rounds: {' '.join(f'{t * 1000:.0f}' for t in times[k])}")
    print(f"  create: berth / kubectl {med['berth'] / med['kubectl']:.2f}   berth / floor {med['berth'] / med['floor']:.2f}"
          f"   floor / kubectl {med['floor'] / med['kubectl']:.2f}")
    low, high = interval(times["berth"], times["floor"])
    print(f"  create: berth / floor, 95% interval of the ratio of medians {low:.2f}–{high:.2f} (bootstrap: how far"
          f" this run's rounds alone leave it uncertain)")
    print(f"  one-object change ({len(times['berth-change'])} changes): berth apply of a previewed change median "
          f"{med['berth-change']:.1f} ms, floor (dry run + apply of the Deployment) {med['floor-change']:.1f} ms, "
          f"berth / floor {med['berth-change'] / med['floor-change']:.2f}")
    low, high = interval(times["berth-change"], times["floor-change"])
    print(f"  one-object change: berth / floor, 95% interval {low:.2f}–{high:.2f}")
    if cpu["berth"]["apiserver"]:
        print("  CPU during each create (10 ms ticks, median per step; 'script' is the floor's client):")
        for step in ("kubectl", "berth", "floor"):
            print(f"    {step:8} " + "   ".join(f"{who} {statistics.median(v):.0f}" for who, v in cpu[step].items() if v))
    print(f"  timed creates during which an apiserver garbage collection finished (each step starts "
          f"{'just after one' if GC_RESET else 'wherever its heap is: BENCH_GC_RESET=0'}): "
          + "   ".join(f"{step} {n} of {len(times[step])}" for step, n in collected.items()))
    print(f"  change preview (diff + dry run) median {med['preview']:.1f} ms over {len(times['preview'])} calls")
    print(f"  berth's log: {berth.log_path}")
finally:
    berth.stop()
    if namespaces:
        kubectl_run("delete", "namespace", *namespaces, "--wait=false")
