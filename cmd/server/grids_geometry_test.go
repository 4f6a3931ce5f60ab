package main

import "testing"

// TestGridListCarriesGeometry: GET /admin/grids returns each grid's stored
// outline as a GeoJSON MultiPolygon, for the console's map.
func TestGridListCarriesGeometry(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, nil, nil)
	var l struct {
		Items []struct {
			Code     string
			Geometry struct {
				Type        string
				Coordinates [][][][2]float64
			}
		}
	}
	s.Do(t, "GET", "/api/v1/admin/grids", c.staff, nil).Decode(t, &l)
	if len(l.Items) != 2 {
		t.Fatalf("%d grids, want 2", len(l.Items))
	}
	g := l.Items[0]
	if g.Code != gridA || g.Geometry.Type != "MultiPolygon" || len(g.Geometry.Coordinates) != 1 || len(g.Geometry.Coordinates[0]) != 1 {
		t.Fatalf("grid %s geometry %+v, want one polygon of one ring", g.Code, g.Geometry)
	}
	ring := g.Geometry.Coordinates[0][0]
	if len(ring) != 5 || ring[0] != [2]float64{118.780, 32.035} || ring[2] != [2]float64{118.785, 32.045} {
		t.Errorf("ring %v, want the uploaded square from 118.780,32.035 to 118.785,32.045", ring)
	}
}
