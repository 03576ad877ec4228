# syntax=docker/dockerfile:1
# The operator's image: built with Rust, run from distroless (glibc, no shell,
# no package manager) as a numeric non-root user.
#   docker build -t REGISTRY/ats-operator:0.1.0 .
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# The manifest names the benches, so they come along; tests and fuzz do not.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY examples ./examples
# The skills taxonomy is embedded in the binary (include_bytes!).
COPY data ./data
# Cache mounts keep the registry and compiled dependencies between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin ats-operator \
 && cp target/release/ats-operator /ats-operator

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /ats-operator /usr/local/bin/ats-operator
# ESCO's attribution travels with the data embedded in the binary.
COPY --from=build /src/data/taxonomy/NOTICE /usr/share/doc/ats-operator/NOTICE-taxonomy
# distroless's "nonroot" user, by number so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/ats-operator"]
CMD ["run"]
