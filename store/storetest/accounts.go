package storetest

import "testing"

func runAccounts(t *testing.T, open Open) {
	t.Skip("to be written")
}
