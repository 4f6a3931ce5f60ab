package storetest

import "testing"

func runPeople(t *testing.T, open Open) {
	t.Skip("to be written")
}
