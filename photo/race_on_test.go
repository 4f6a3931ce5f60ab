//go:build race

package photo

// raceEnabled reports whether the race detector is on; the slow memory
// test is skipped under it.
const raceEnabled = true
