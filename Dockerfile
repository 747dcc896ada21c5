# syntax=docker/dockerfile:1
# returns-gateway: multi-stage build, slim non-root runtime.
#   docker build -t returns-gateway .
#   docker run -p 4000:4000 -v "$PWD/config.toml:/etc/returns-gateway/config.toml:ro" returns-gateway
# The shipped config.toml (config/default.toml) holds no credentials: started as it is, the
# gateway exits at once with one line naming the missing settings (auth.issuer, auth.audience,
# a key, vendors.trackru.api_key) and docs/configuration.md. Mount a file, or set RETURNS_GATEWAY__AUTH__ISSUER=... and
# the like; `docker run --rm IMAGE check-config /etc/returns-gateway/config.toml` checks them.
# The demo with its simulators: compose.yaml (built with FEATURES="").

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The product is built without the `demo` feature: the image holds no simulator code.
ARG FEATURES="--no-default-features"
# Dependencies first, so source edits don't rebuild them (stub crates stand in for ours).
COPY Cargo.toml Cargo.lock ./
COPY crates/vendors/Cargo.toml crates/vendors/
COPY crates/simulators/Cargo.toml crates/simulators/
RUN mkdir -p src crates/vendors/src crates/simulators/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs crates/vendors/src/lib.rs crates/simulators/src/lib.rs \
    && cargo build --release --locked $FEATURES -p returns-gateway \
    && rm -rf src crates/vendors/src crates/simulators/src
COPY crates ./crates
COPY src ./src
# GraphiQL's files, compiled into the binary (src/http/graphiql.rs).
COPY assets ./assets
COPY config ./config
RUN touch src/main.rs src/lib.rs crates/vendors/src/lib.rs \
    && cargo build --release --locked $FEATURES -p returns-gateway

FROM debian:bookworm-slim AS runtime
# rustls with bundled roots: no OpenSSL or CA package needed at run time.
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home gateway \
    && mkdir -p /var/lib/returns-gateway \
    && chown gateway:gateway /var/lib/returns-gateway
COPY --from=build /src/target/release/returns-gateway /usr/local/bin/returns-gateway
COPY config/default.toml /etc/returns-gateway/config.toml
# Its `#:schema ./schema.json` line points editors here.
COPY config/schema.json /etc/returns-gateway/schema.json
ENV RETURNS_GATEWAY_CONFIG=/etc/returns-gateway/config.toml \
    RETURNS_GATEWAY_LISTEN=0.0.0.0:4000 \
    RETURNS_GATEWAY__INDEX__DATA_DIR=/var/lib/returns-gateway \
    RUST_LOG=info
# The returns index (index.sqlite3): keep it on a volume, so a new container resumes its sync
# instead of backfilling again.
VOLUME /var/lib/returns-gateway
USER 10001:10001
EXPOSE 4000
# SIGTERM drains: no new connections, requests in flight finish (server.shutdown_grace_s, 25 s
# by default), WebSockets close with 1001. `docker stop` waits 10 s before SIGKILL: run with
# `--stop-timeout 30` (Kubernetes waits 30 s by default).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["returns-gateway", "healthcheck", "--url", "http://127.0.0.1:4000/healthz"]
ENTRYPOINT ["returns-gateway"]
CMD ["serve"]
