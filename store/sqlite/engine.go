package sqlite

import "github.com/citizen-city/chengguantong/store"

// Engine is the store as the services use it (the contract of package
// store), with handoffs recorded under the instance it was opened with.
func (db *DB) Engine() store.Engine { return db.EngineAs(db.instance) }

// EngineAs is Engine with handoffs recorded under another instance's name
// (tests of two processes sharing one store).
func (db *DB) EngineAs(instance string) store.Engine {
	return store.Engine{
		Name:          "sqlite",
		Tickets:       db.Tickets().As(instance),
		Stats:         db.Stats(),
		Users:         db.Users(),
		Invites:       db.Invites(),
		People:        db.People(),
		Categories:    db.Categories(),
		Grids:         db.Grids(),
		Photos:        db.Photos(),
		Activities:    db.Activities(),
		APIKeys:       db.APIKeys(),
		Submitters:    db.Submitters(),
		Notifications: db.Notifications(),
		Subscriptions: db.Subscriptions(),
		Addresses:     db.Addresses(),
		Layers:        db.Layers(),
		Staff:         db.Staff(),
		Trail:         db.Trail(),
		Privacy:       db.Privacy(),
		Redaction:     db.Redaction(),
	}
}
