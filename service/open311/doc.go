// Package open311 serves the city's tickets in the civic-tech standard
// GeoReport v2 (docs/open311.md): the categories as services, the public
// view of tickets as service requests (never a reporter's identity), and
// requests filed by other platforms with an api key, which enter through
// the ticket workflow's one intake like any report.
package open311
