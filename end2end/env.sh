# Sourced by Berth's scripts: where builds and caches live. Caches stay under $HOME/.cache so that
# a warm machine rebuilds in seconds, even from a fresh clone.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/berth/cargo-target}
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-$repo/target/site}
# wasm-opt (npm's binaryen) for release builds of the browser bundle.
export PATH=$HOME/.cargo/bin:$repo/end2end/node_modules/.bin:$PATH
