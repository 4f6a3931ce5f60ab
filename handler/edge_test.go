package handler

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientIP: X-Forwarded-For is believed only from configured proxies,
// and then only up to the nearest address that is not one; loopback and
// private peers are not trusted by default.
func TestClientIP(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     string
		want    string
	}{
		{"nothing trusted, private peer", nil, "10.0.0.5:1234", "203.0.113.1", "10.0.0.5"},
		{"nothing trusted, loopback peer", nil, "127.0.0.1:1234", "203.0.113.1", "127.0.0.1"},
		{"trusted proxy", lb, "10.0.0.5:1234", "203.0.113.1", "203.0.113.1"},
		{"trusted proxy, a client's own header before it", lb, "10.0.0.5:1234", "198.51.100.7, 203.0.113.1", "203.0.113.1"},
		{"two trusted proxies", lb, "10.0.0.5:1234", "203.0.113.1, 10.0.0.9", "203.0.113.1"},
		{"peer not a proxy", lb, "192.168.1.2:1234", "203.0.113.1", "192.168.1.2"},
		{"loopback not a proxy", lb, "127.0.0.1:1234", "203.0.113.1", "127.0.0.1"},
		{"garbage in the header", lb, "10.0.0.5:1234", "not-an-address", "10.0.0.5"},
		{"no header", lb, "10.0.0.5:1234", "", "10.0.0.5"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientIP(tc.trusted)(r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
