package storetest

import "testing"

func runNotifications(t *testing.T, open Open) {
	t.Skip("to be written")
}
