package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/citizen-city/chengguantong/internal/apitest"
)

// BenchmarkOpen311Requests measures GeoReport v2 reads over N published
// tickets (O311_BENCH_N, default 500) filed through POST requests.json:
// the default listing (every ticket of the last 90 days), a page of 50,
// one request by id, and the POST itself (registered and routed before the
// answer). See docs/BENCHMARKS.md for the numbers and the command.
func BenchmarkOpen311Requests(b *testing.B) {
	n := 500
	if v, err := strconv.Atoi(os.Getenv("O311_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	env := intakeEnv(b)
	env["OPEN311_POSTS_PER_MINUTE"] = "100000000"
	base := startIntakeServer(b, env)
	c := apitest.New(base)
	staff := c.LoginStaff(b, adminUser, adminPass)
	key := c.Do(b, "POST", "/api/v1/admin/open311/keys", staff, map[string]string{"name": "bench"}).JSON(b)["api_key"].(string)
	hc := intakeHTTP(8)
	post := func(i int) (string, error) {
		form := url.Values{"api_key": {key}, "service_code": {"0101"}, "lat": {fmt.Sprint(32.03 + float64(i%100)*0.0002)},
			"long": {fmt.Sprint(118.78 + float64(i/100)*0.0002)}, "description": {fmt.Sprintf("第%d处暴露垃圾", i)}}
		resp, err := hc.PostForm(base+"/open311/v2/requests.json", form)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("POST: %d %s", resp.StatusCode, body)
		}
		s := string(body)
		i0 := strings.Index(s, `"service_request_id":"`) + len(`"service_request_id":"`)
		return s[i0 : i0+24], nil
	}
	ids := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				id, err := post(i)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				ids[i] = id
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	get := func(b *testing.B, path string, want int) {
		for b.Loop() {
			resp, err := hc.Get(base + path)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || strings.Count(string(body), "<request>") != want {
				b.Fatalf("GET %s: %d, %d requests", path, resp.StatusCode, strings.Count(string(body), "<request>"))
			}
		}
	}
	b.Run(fmt.Sprintf("list_all_%d", n), func(b *testing.B) { get(b, "/open311/v2/requests.xml", min(n, 1000)) })
	b.Run("page_of_50", func(b *testing.B) { get(b, "/open311/v2/requests.xml?page_size=50&page=2", 50) })
	b.Run("by_id", func(b *testing.B) { get(b, "/open311/v2/requests/"+ids[n/2]+".xml", 1) })
	b.Run("post", func(b *testing.B) {
		i := n
		for b.Loop() {
			if _, err := post(i); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
