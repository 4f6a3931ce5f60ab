package storetest

import "testing"

func runHandoffs(t *testing.T, open Open) {
	t.Skip("to be written")
}
