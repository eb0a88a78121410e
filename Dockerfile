# Berth's image: the `berth` binary, its site (wasm bundle, JS, CSS) and its templates, on a
# distroless base, as a non-root user with nothing else in it. This machine has no container
# runtime, so the image is not built here (see the README, "Install in a cluster").
#
#   docker build -t berth:dev .
#   docker run -p 8080:8080 -e BERTH_ADDR=0.0.0.0:8080 -v berth-data:/data berth:dev

FROM rust:1.95-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config npm zopfli \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add wasm32-unknown-unknown \
 && rustup toolchain install nightly-2026-05-20 --profile minimal --component rust-src \
      --target wasm32-unknown-unknown \
 && cargo install --locked cargo-leptos wasm-bindgen-cli \
 && npm install -g binaryen
WORKDIR /src
COPY . .
# The site's wasm, JS and CSS are compressed here, once (gzip by zopfli, and brotli); Berth serves
# those files as they are.
# The wasm is built by a pinned nightly, its standard library rebuilt with panic = immediate-abort
# (40 KB less gzip; end2end/build-release); the server by 1.95.
ENV CARGO_TARGET_DIR=/src/target BERTH_WASM_TOOLCHAIN=nightly-2026-05-20
RUN end2end/build-release \
 && mkdir -p /out \
 && cp target/release/berth /out/berth \
 && cp -r target/site /out/site \
 && cp -r manifests /out/manifests

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/berth /usr/local/bin/berth
COPY --from=build /out/site /site
COPY --from=build /out/manifests /manifests
ENV LEPTOS_SITE_ROOT=/site \
    BERTH_TEMPLATES=/manifests \
    BERTH_ADDR=0.0.0.0:8080 \
    BERTH_DB=/data/berth.db
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/berth"]
CMD ["serve"]
