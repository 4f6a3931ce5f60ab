// Package geo holds the geometry used to route street-problem reports to
// city-management grids (网格).
//
// It covers four concerns:
//
//   - Coordinates: Point, distances, and the WGS-84 / GCJ-02 datum shift used
//     by Chinese map providers and WeChat (coord.go).
//   - Proximity cells: geohash cells that let a database without geo queries
//     (FerretDB) answer "what is near" with an indexed equality match
//     (cell.go).
//   - Grids: parsing and validating grid polygons from GeoJSON and storing
//     them without nested arrays (grid.go, validate.go, shape.go).
//   - Index: an immutable in-memory spatial index that finds the grid
//     containing, or nearest to, a point (index.go).
//
// Unless a function says otherwise, every Point and every geometry in this
// package is WGS-84. Convert GCJ-02 input with GCJ02ToWGS84 at the edge of the
// system, before it reaches anything else.
package geo
