#!/usr/bin/env python3
"""Whether Berth's memory grows with use, or only warms up once: one Berth process (release build
when there is one), the local control plane, loopback only, bounded.

It measures RSS at idle, then runs ROUNDS rounds. Each round deploys COUNT PostHog instances
(each in its own namespace), deletes them all, waits until their pods are gone and then 100 s
more (every watch no instance needs has stopped by then, and the allocator has handed free pages
back), and prints RSS and its anonymous part. A leak shows as RSS that climbs round after round;
what the first round leaves behind and later rounds do not add to is warm-up (code paged in,
caches filled, the allocator's free lists).

Usage: end2end/bench/cycles.py [ROUNDS] [COUNT]   (default 4 rounds of 5; needs end2end/cluster/up)
"""
import os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Berth, Kube, kubeconfig, profile  # noqa: E402

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
count = int(sys.argv[2]) if len(sys.argv) > 2 else 5
stamp = str(int(time.time()))[-6:]
berth = Berth(int(os.environ.get("CYCLES_PORT", "18384")))
kube = Kube()
made = []


def settled_rss():
    return berth.rss_mb(), berth.rss_mb("RssAnon")


try:
    time.sleep(12)
    idle, idle_anon = settled_rss()
    print(f"berth ({profile} build), {rounds} rounds of {count} PostHog instances")
    print(f"idle: RSS {idle:.1f} MB (anonymous {idle_anon:.1f})", flush=True)
    print(f"{'round':>5} {'peak':>8} {'after':>8} {'anon':>6} {'x idle':>7}", flush=True)
    for r in range(1, rounds + 1):
        namespaces = [f"cycle-{stamp}-{r}-{i}" for i in range(count)]
        for ns in namespaces:
            made.append(ns)
            status, body = berth.request("POST", "/api/v1/instances?wait=true",
                                         {"template": "posthog", "namespace": ns, "name": "ph"})
            assert status == 201, body
        time.sleep(5)
        peak = berth.rss_mb()
        for ns in namespaces:
            status, op = berth.request("DELETE", f"/api/v1/instances/{ns}/ph?wait=true")
            assert status == 200, op
        kube.wait_pods_gone(namespaces)
        time.sleep(100)
        rss, anon = settled_rss()
        print(f"{r:5d} {peak:7.1f}M {rss:7.1f}M {anon:5.1f}M {rss / idle:7.2f}", flush=True)
finally:
    berth.stop()
    if made:
        subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", "delete", "namespace", *made, "--wait=false"],
                       capture_output=True)
