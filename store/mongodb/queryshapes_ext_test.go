package mongodb_test

import (
	"testing"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

// TestEveryQueryShapeHasItsIndex: see mongodb.CheckQueryShapes.
func TestEveryQueryShapeHasItsIndex(t *testing.T) {
	t.Parallel()
	mongodb.CheckQueryShapes(t, testenv.Mongo(t))
}
