package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizen-city/chengguantong/handler"
)

// serveMetrics serves /metrics alone on addr (METRICS_ADDR; loopback by
// default, so the scraper runs on the same host or reaches it through a
// tunnel) until stop is called. An empty addr (METRICS_ADDR=off) serves
// nothing. onReady, when set, receives the bound address.
func serveMetrics(addr string, reg *prometheus.Registry, logger *slog.Logger, onReady func(string)) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on METRICS_ADDR %s: %w (set METRICS_ADDR to a free address, or off)", addr, err)
	}
	srv := &http.Server{Handler: handler.Metrics(reg), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("metrics listening", "addr", ln.Addr().String())
	if onReady != nil {
		onReady(ln.Addr().String())
	}
	return func() { _ = srv.Close() }, nil
}
