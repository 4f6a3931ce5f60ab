package storetest

import "testing"

func runPhotos(t *testing.T, open Open) {
	t.Skip("to be written")
}
