// Package faults holds the fault tests: the real server binary, started as
// child processes on real stores (redis-server, a Redis Cluster, FerretDB,
// SQLite under DATA_DIR), driven by the city simulator (internal/citysim)
// while instances are killed with SIGKILL — under a burst of concurrent
// reports, at each stage of the pipeline —, Redis is killed or flushed,
// MongoDB is cut off, WeChat fails, the embedded store's disk fills up, a
// second server or a maintenance command is started beside a running one,
// the database file is damaged, the server is stopped with SIGSTOP; each
// test ends with the simulator's independent audit, after a kill in its
// deadline mode (every acknowledged report in place within 10 s). They
// carry the build tag faults:
//
//	go test -tags faults -p 1 -count=1 -v ./faults/...
//
// The full-disk test mounts a tmpfs (it needs root; CI runs as root). The
// suite takes about eight minutes on two cores. docs/RELIABILITY.md records
// what the tests showed.
package faults
