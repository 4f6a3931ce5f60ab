package storetest

import "testing"

func runStats(t *testing.T, open Open) {
	t.Skip("to be written")
}
