# syntax=docker/dockerfile:1
#
# Image of tabwitness, the witness.
# Build from the repository root:
#
#   docker build -f deployment/docker/tabwitness.Dockerfile -t tabularium/tabwitness .
#
# The binary is static (CGO_ENABLED=0: the SQLite driver is pure Go) and runs as
# UID/GID 65532 on an empty base image. No key, password or configuration is
# copied into the image: mount them at run time (see deployment/compose and
# deployment/kubernetes).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/cache/go-build \
    GOCACHE=/cache/go-build CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/tabwitness ./cmd/tabwitness
# The folders the image needs, owned by the unprivileged user: a scratch image
# has no mkdir to make them later.
RUN mkdir -p /rootfs/tmp /rootfs/etc/tabwitness /rootfs/var/lib/tabwitness && \
    chmod 1777 /rootfs/tmp && \
    chown 65532:65532 /rootfs/var/lib/tabwitness && \
    echo 'tabwitness:x:65532:65532::/nonexistent:/sbin/nologin' > /rootfs/etc/passwd && \
    echo 'tabwitness:x:65532:' > /rootfs/etc/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /rootfs/ /
COPY --from=build /out/tabwitness /usr/local/bin/tabwitness
USER 65532:65532
EXPOSE 7380 9464
ENTRYPOINT ["/usr/local/bin/tabwitness"]
CMD ["serve", "--config", "/etc/tabwitness/tabwitness.yaml"]
