package storetest

import "testing"

func runCatalogue(t *testing.T, open Open) {
	t.Skip("to be written")
}
