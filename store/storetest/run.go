package storetest

import "testing"

// Run runs the whole suite against the engine open opens. Each group is
// defined in its own file; a test in a group opens its own store (see Open)
// and may run in parallel with the others.
func Run(t *testing.T, open Open) {
	groups := []struct {
		name string
		run  func(*testing.T, Open)
	}{
		{"Tickets", runTickets},
		{"Search", runSearch},
		{"Handoffs", runHandoffs},
		{"Stats", runStats},
		{"Accounts", runAccounts},
		{"People", runPeople},
		{"Catalogue", runCatalogue},
		{"Photos", runPhotos},
		{"Activities", runActivities},
		{"Addresses", runAddresses},
		{"Open311", runOpen311},
		{"Notifications", runNotifications},
		{"Privacy", runPrivacy},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}
