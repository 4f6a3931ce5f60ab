package main

import (
	"testing"

	"github.com/citizen-city/chengguantong/internal/testenv"
)

// TestRedisCluster runs the whole flow — login limits, intake leases,
// screening and dispatch streams, timers — against a real three-node Redis
// Cluster named by a go-redis cluster URL: every multi-key command stays in
// one slot thanks to the hash tags.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	env["REDIS_URL"] = testenv.NewRedisCluster(t)
	s := startServer(t, env, options{})
	c := newCity(t, s, map[string]string{"周网格": gridA}, nil)
	_, id := c.report(t, "resident-cluster", "0101", nil)
	waitTask(t, s, c.workers["周网格"].token, "/api/v1/tasks", id)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", c.workers["周网格"].token, nil); r.Status != 200 {
		t.Fatalf("accept on the cluster: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz on the cluster: %d %s", r.Status, r.Body)
	}
}
