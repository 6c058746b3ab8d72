# Multi-stage build: compile with the full toolchain, run on a slim image as a non-root user.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p kakehashi && strip target/release/kakehashi

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin kakehashi \
 && mkdir -p /data && chown kakehashi:kakehashi /data
COPY --from=build /src/target/release/kakehashi /usr/local/bin/kakehashi
USER kakehashi
WORKDIR /data
ENV KAKEHASHI__DATA_DIR=/data \
    KAKEHASHI__SERVER__BIND=0.0.0.0:8080 \
    KAKEHASHI__LOG__FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q 200 <&3"]
ENTRYPOINT ["/usr/bin/tini", "--", "kakehashi"]
CMD ["serve"]
