#!/usr/bin/env python3
"""Where the browser bundle's code goes, by what compiled it in.

Builds the wasm as `end2end/build-release` does (the `wasm-release` profile, the `hydrate`
feature, `--cfg erase_components`, and nightly's panic = immediate-abort (with no panic locations) where that toolchain is
ready), but with full symbol names (`v0` mangling) and into a target directory of its own, so the
main build cache stays valid. Then sizes every function
with twiggy (installed from crates.io into ~/.cache/berth/tools when missing) and sums them: serde
per shared type, the type-erased views per method, the rest per crate, and all of it per Berth
module that it was compiled for.

The sizes are of the code before wasm-bindgen and wasm-opt, which shrink it by about a third;
the shares are what to read. `end2end/bench/console.mjs` measures the bundle itself.

Usage: end2end/bench/bundle-breakdown.py [--top N]
"""

import argparse
import collections
import csv
import io
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.path.expanduser("~/.cache/berth")
TOOLS = os.path.join(CACHE, "tools")
TARGET = os.path.join(CACHE, "cargo-target-names")


def twiggy() -> str:
    found = shutil.which("twiggy") or os.path.join(TOOLS, "bin", "twiggy")
    if not os.path.exists(found):
        print("installing twiggy from crates.io", file=sys.stderr)
        subprocess.run(
            ["cargo", "install", "twiggy", "--locked", "--root", TOOLS], check=True
        )
    return found


def nightly_ready(toolchain: str) -> bool:
    """Whether `end2end/build-release` builds the wasm with this toolchain (rust-src, wasm target)."""
    lists = [["rustup", "component", "list", "--installed", "--toolchain", toolchain],
             ["rustup", "target", "list", "--installed", "--toolchain", toolchain]]
    parts = set()
    for cmd in lists:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            return False
        parts.update(done.stdout.split())
    return {"rust-src", "wasm32-unknown-unknown"} <= parts


def build() -> str:
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET, LEPTOS_OUTPUT_NAME="berth")
    env["RUSTFLAGS"] = "--cfg erase_components -C symbol-mangling-version=v0"
    toolchain = os.environ.get("BERTH_WASM_TOOLCHAIN", "nightly")
    if nightly_ready(toolchain):
        # As end2end/build-release builds the shipped wasm: the standard library rebuilt with
        # panic = immediate-abort, in a target directory of its own.
        print(f"building with {toolchain}, panic = immediate-abort", file=sys.stderr)
        env.update(RUSTUP_TOOLCHAIN=toolchain, CARGO_TARGET_DIR=TARGET + "-immediate-abort",
                   CARGO_UNSTABLE_BUILD_STD="std,panic_abort",
                   CARGO_UNSTABLE_BUILD_STD_FEATURES="optimize_for_size")
        env["RUSTFLAGS"] += " -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
    subprocess.run(
        ["cargo", "build", "-p", "app", "--lib", "--target", "wasm32-unknown-unknown",
         "--profile", "wasm-release", "--no-default-features", "--features", "hydrate"],
        cwd=REPO, env=env, check=True,
    )
    return os.path.join(env["CARGO_TARGET_DIR"], "wasm32-unknown-unknown", "wasm-release", "app.wasm")


def functions(wasm: str) -> list[tuple[str, int]]:
    out = subprocess.run(
        [twiggy(), "top", "-n", "1000000", "--format", "csv", wasm],
        check=True, capture_output=True, text=True,
    ).stdout
    rows = []
    for r in csv.DictReader(io.StringIO(out)):
        name = re.sub(r"\[[0-9a-f]{1,16}\]", "", r["Name"])  # crate disambiguators
        if "section" in name or name.startswith(("data segment", "elem[", "table[", "export ", "import ")):
            continue
        rows.append((name, int(r["ShallowSize"])))
    return rows


SERDE = re.compile(r"^<?&?(mut )?(serde|serde_core|serde_json|serde_qs)::|__(Field)?Visitor|as serde_core::")
BUFFERED = re.compile(r"content::|Content|FlatMap")
APP_PATH = re.compile(r"app::((?:\w+::)?\w+)")
ERASED = re.compile(r"^<_ as tachys::view::any_view::IntoAny>::into_any::(\w+)")


def crate_of(name: str) -> str:
    """The crate whose code this is: a trait impl's trait crate, else the function's own."""
    m = re.match(r"^<(.+?) as ([\w:]+)", name)
    if m:
        trait = m.group(2).split("::")[0]
        if trait not in ("core", "alloc", "std"):
            return trait
        return m.group(1).lstrip("&*").removeprefix("mut ").split("::")[0].lstrip("<")
    return name.lstrip("<").split("::")[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=12, help="rows per table")
    args = ap.parse_args()
    rows = functions(build())
    total = sum(s for _, s in rows)
    pct = lambda n: f"{n:>9,} B {100 * n / total:5.1f}%"  # noqa: E731

    serde = [(n, s) for n, s in rows if SERDE.search(n)]
    buffered = sum(s for n, s in serde if BUFFERED.search(n))
    per_type = collections.Counter()
    for n, s in serde:
        m = re.search(r"app::(model::\w+|error|api|codec)", n)
        per_type[m.group(1) if m else "(serde itself, generic)"] += s
    erased = collections.Counter()
    for n, s in rows:
        m = ERASED.match(n)
        if m:
            erased[m.group(1)] += s
    crates = collections.Counter()
    for n, s in rows:
        if not SERDE.search(n) and not ERASED.match(n):
            crates[crate_of(n)] += s

    print(f"code: {total:,} bytes in {len(rows):,} functions (before wasm-bindgen and wasm-opt)")
    print(f"\nserde (reading and writing the shared types): {pct(sum(s for _, s in serde))}")
    print(f"  of which buffering (flatten, internally tagged enums): {pct(buffered)}")
    for k, v in per_type.most_common(args.top):
        print(f"  {k:<40} {pct(v)}")
    print(f"\ntype-erased views (AnyView), by method: {pct(sum(erased.values()))}")
    for k, v in erased.most_common(args.top):
        print(f"  {k:<40} {pct(v)}")
    print("\neverything else, by crate:")
    for k, v in crates.most_common(args.top):
        print(f"  {k:<40} {pct(v)}")
    # A generic function compiled for one of Berth's types names that type (v0 names carry the
    # type arguments), so this counts, per Berth module, its own code and the library code
    # instantiated for it. What names no Berth type is shared framework and library code.
    modules = collections.Counter()
    for n, s in rows:
        m = APP_PATH.search(n)
        modules[m.group(1) if m else "(no Berth type named)"] += s
    print("\nall code, by the Berth module it was compiled for:")
    for k, v in modules.most_common(args.top):
        print(f"  {k:<40} {pct(v)}")


if __name__ == "__main__":
    main()
