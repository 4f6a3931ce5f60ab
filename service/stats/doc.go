// Package stats reads the statistics the bureau reports
// (docs/statistics.md): the summary of any
// period grouped by category, grid, community, worker, source, day or month,
// the ranking, the party-building figures, the annual report's sentences
// and the Excel workbook. The counting itself is the store's: every
// committed transition is counted exactly once as it commits (SQLite) or by
// the store's applier (MongoDB); this package reads the roll-ups through
// Store.
package stats
