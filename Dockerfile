# syntax=docker/dockerfile:1
# Build: a static binary (the embedded store's SQLite driver, modernc.org/sqlite, is pure Go, so CGO is off).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server \
 && mkdir -p /out/data

# Run: distroless, non-root, exec-form entrypoint so SIGTERM reaches the
# graceful shutdown.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV HTTP_ADDR=:8080 DATA_DIR=/data
EXPOSE 8080
VOLUME ["/data"]
USER nonroot:nonroot
ENTRYPOINT ["/server"]
