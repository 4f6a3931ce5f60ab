package handler

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// maxGridUpload bounds a GeoJSON upload.
const maxGridUpload = 16 << 20

type gridJSON struct {
	ID        string `json:"id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Community string `json:"community"`
	// Geometry is the grid's outline as a GeoJSON MultiPolygon (WGS-84,
	// [lng, lat]); absent when the grid was returned without it.
	Geometry *multiPolygonJSON `json:"geometry,omitempty"`
}

// multiPolygonJSON is a GeoJSON MultiPolygon geometry.
type multiPolygonJSON struct {
	Type        string           `json:"type"`
	Coordinates [][][][2]float64 `json:"coordinates"`
}

func areaJSON(area [][][]model.Point) *multiPolygonJSON {
	if len(area) == 0 {
		return nil
	}
	coords := make([][][][2]float64, len(area))
	for i, poly := range area {
		coords[i] = make([][][2]float64, len(poly))
		for j, ring := range poly {
			pts := make([][2]float64, len(ring))
			for k, p := range ring {
				pts[k] = [2]float64{p.Lng, p.Lat}
			}
			coords[i][j] = pts
		}
	}
	return &multiPolygonJSON{Type: "MultiPolygon", Coordinates: coords}
}

func (h *handlers) uploadGrids(c echo.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxGridUpload))
	if err != nil {
		return jsonError(err, body)
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	grids, err := h.Grids.Upload(c.Request().Context(), body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toGrids(grids))
}

func (h *handlers) listGrids(c echo.Context) error {
	grids, err := h.Grids.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toGrids(grids))
}

func toGrids(grids []model.Grid) itemsJSON[gridJSON] {
	out := itemsJSON[gridJSON]{Items: make([]gridJSON, len(grids))}
	for i, g := range grids {
		out.Items[i] = gridJSON{ID: g.Code, Code: g.Code, Name: g.Name, Community: g.Community, Geometry: areaJSON(g.Area)}
	}
	return out
}
