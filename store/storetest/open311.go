package storetest

import "testing"

func runOpen311(t *testing.T, open Open) {
	t.Skip("to be written")
}
