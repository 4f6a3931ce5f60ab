package storetest

import "testing"

func runActivities(t *testing.T, open Open) {
	t.Skip("to be written")
}
