package mongodb

// RollupID names the roll-up document that holds a key, for tests.
func RollupID(period, dim, key string) string { return rollupID(period, dim, key) }
