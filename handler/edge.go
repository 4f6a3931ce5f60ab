package handler

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// clientIP is how the server knows a client's address: the peer's own,
// unless the peer is one of the trusted proxies, in which case the nearest
// address in X-Forwarded-For that is not itself a trusted proxy. Nothing is
// trusted by default: not loopback, not private networks (a client on the
// intranet would otherwise name any address it likes and walk around every
// per-address limit).
func clientIP(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Metrics serves /metrics from reg, and nothing else: the handler of the
// listener on METRICS_ADDR, which is loopback by default.
func Metrics(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
