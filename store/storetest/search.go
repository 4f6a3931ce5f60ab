package storetest

import "testing"

func runSearch(t *testing.T, open Open) {
	t.Skip("to be written")
}
