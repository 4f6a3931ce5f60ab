package mongodb

import "github.com/citizen-city/chengguantong/model"

// RollupID names the roll-up document that holds a key, for tests.
func RollupID(period, dim, key string) string { return rollupID(period, dim, key) }

// EncodeRollup packs rows as a roll-up document holds them, for tests.
func EncodeRollup(rows []model.RollupRow) []byte { return encodeRollup(rows) }
