package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestThreeInstancesLoseNothingAndDoNothingTwice(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	env["ACCEPT_TIMEOUT"] = "3s"
	sim := newSimulator(t, env["WECHAT_APPID"])
	instances := []*testServer{
		startServer(t, env, options{simulator: sim}),
		startServer(t, env, options{simulator: sim}),
		startServer(t, env, options{simulator: sim}),
	}
	c := newCity(t, instances[0], map[string]string{"甲": gridA, "乙": gridA}, nil)

	// Reports arrive at all three instances at once.
	const n = 18
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := instances[i%3]
			tok, _ := s.Login(t, fmt.Sprintf("resident-multi-%d", i))
			body := reportBody("1102", uploadPhoto(t, s, tok)["id"].(string))
			body["location"] = map[string]any{"lat": 32.036 + float64(i)*0.0005, "lng": 118.7825, "coord_type": "wgs84"}
			r := s.Do(t, "POST", "/api/v1/reports", tok, body)
			if r.Status != 201 {
				t.Errorf("report %d: %d %s", i, r.Status, r.Body)
				return
			}
			ids[i] = r.JSON(t)["id"].(string)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Nobody accepts: each ticket is dispatched to one worker, re-assigned to
	// the other when 3 s pass, and — both having let it time out — queued for
	// staff. Every timer fires exactly once across the three instances.
	want := "reported,registered,dispatched,reassigned,dispatched,reassigned,queued"
	deadline := time.Now().Add(patience)
	for _, id := range ids {
		for {
			rep := waitStatus(t, instances[0], c.staff, id, "dispatched", "pending")
			got := timelineTypes(rep)
			if got == want {
				break
			}
			if !strings.HasPrefix(want, got) || time.Now().After(deadline) {
				t.Fatalf("ticket %s: timeline %s; want %s\n%+v", id, got, want, rep.Timeline)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	time.Sleep(2 * time.Second) // any second firing would show now
	for _, id := range ids {
		rep := waitStatus(t, instances[1], c.staff, id, "pending")
		if got := timelineTypes(rep); got != want {
			t.Fatalf("ticket %s changed again: %s", id, got)
		}
	}
}
