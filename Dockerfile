# Multi-stage build: compile in the official Rust image, run in slim Debian.
# docker build -t lanterne . && docker run -e DATABASE_URL=... -p 8080:8080 lanterne
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin lanterne

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/lanterne --create-home lanterne
COPY --from=build /src/target/release/lanterne /usr/local/bin/lanterne
USER lanterne
WORKDIR /var/lib/lanterne
ENV LANTERNE_SERVER__BIND=0.0.0.0:8080 \
    LANTERNE_CLICKS__SPOOL_DIR=/var/lib/lanterne/spool \
    LANTERNE_LOG__FORMAT=json
VOLUME ["/var/lib/lanterne"]
EXPOSE 8080
# /dev/tcp is a bash feature (Debian's /bin/sh, dash, has none): ask /healthz.
HEALTHCHECK --interval=30s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["lanterne"]
CMD ["serve"]
