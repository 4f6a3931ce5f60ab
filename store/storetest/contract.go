// Package storetest is the conformance suite of the stores: one set of
// tests that every engine (store/sqlite, the embedded default; store/mongodb,
// production) must pass, so that no service can tell which engine it talks
// to. A behaviour one engine has and the other lacks fails it.
//
// An engine's own test file calls Run with a function that opens a fresh,
// empty store of that engine (see Open). The contract itself — the method
// sets — is package store (store/engine.go).
package storetest

import "github.com/citizen-city/chengguantong/store"

// The contract's types, under the names the suite's tests use.
type (
	Engine        = store.Engine
	Tickets       = store.Tickets
	Stats         = store.Stats
	Users         = store.Users
	Invites       = store.Invites
	People        = store.People
	Categories    = store.Categories
	Grids         = store.Grids
	Photos        = store.Photos
	Activities    = store.Activities
	APIKeys       = store.APIKeys
	Submitters    = store.Submitters
	Notifications = store.Notifications
	Subscriptions = store.Subscriptions
	Addresses     = store.Addresses
	Layers        = store.Layers
)

// Open opens a fresh, empty store of an engine for one test and returns a
// function that gives the same store as seen by a named instance (a server
// process): what one instance commits the others read, and the handoffs it
// records name it as their owner. Everything is removed when tb ends.
type Open func(tb TB) func(instance string) Engine

// TB is the part of testing.TB an Open uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}
