// Package faults holds the fault tests: the real server binary, started as
// child processes on real stores (redis-server, a Redis Cluster, FerretDB),
// driven by the city simulator (internal/citysim) while instances are
// killed with SIGKILL, Redis is killed or flushed, MongoDB is cut off and
// WeChat fails; each test ends with the simulator's independent audit. They
// carry the build tag faults:
//
//	go test -tags faults -p 1 -count=1 -v ./faults/...
//
// docs/RELIABILITY.md records what they showed.
package faults
