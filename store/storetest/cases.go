package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/citizen-city/chengguantong/model"
)

// suiteCase is one test of a group; it gets a fresh store of its own.
type suiteCase struct {
	name string
	run  func(t *testing.T, e Engine)
}

// runCases runs each case in parallel on a store of its own, as seen by
// instance-a; a case whose engine lacks a resource the group needs (has
// reports false) is skipped, so that an engine can be wired one resource
// at a time.
func runCases(t *testing.T, open Open, has func(Engine) bool, cases []suiteCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := open(t)("instance-a")
			if !has(e) {
				t.Skipf("%s does not implement this group's resources yet", e.Name)
			}
			c.run(t, e)
		})
	}
}

// expectCode fails t unless err is a model error of code.
func expectCode(t *testing.T, err error, code model.Code, what string, args ...any) {
	t.Helper()
	if !errors.Is(err, &model.Error{Code: code}) {
		t.Fatalf("%s: error %v, want %s", fmt.Sprintf(what, args...), err, code)
	}
}

// expectOK fails t on err.
func expectOK(t *testing.T, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// sortableID returns the n-th of a series of 24-hex-digit ids that sort in
// n's order (and after every id model.NewID gave before 2100).
func sortableID(prefix byte, n int) string {
	return fmt.Sprintf("f%c%022x", prefix, n)
}
