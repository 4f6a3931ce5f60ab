package handler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// AddressService is the address book (地址库).
type AddressService interface {
	Import(ctx context.Context, data []byte) (catalogue.Imported, error)
	Search(ctx context.Context, q string, limit int) ([]catalogue.AddressHit, error)
}

// LayerService is the map's base layers.
type LayerService interface {
	Create(ctx context.Context, staff *model.User, in catalogue.LayerInput) (*model.Layer, error)
	List(ctx context.Context) ([]model.Layer, error)
	Delete(ctx context.Context, id string) error
}

// uploadBody reads an upload of at most limit bytes: the request body
// itself, or the field "file" of a multipart/form-data form (a browser's
// file input). Errors: payload_too_large, invalid_argument (no file).
func uploadBody(c echo.Context, limit int64) ([]byte, error) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt == echo.MIMEMultipartForm {
		f, _, err := r.FormFile("file")
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				return nil, jsonError(err, nil)
			}
			return nil, model.InvalidNamed("file", "请在表单字段 file 中附上文件")
		}
		defer f.Close()
		return io.ReadAll(f)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, jsonError(err, body)
	}
	return body, nil
}

type rejectedJSON struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

type importedJSON struct {
	Imported int            `json:"imported"`
	Added    int            `json:"added"`
	Rejected []rejectedJSON `json:"rejected"`
}

// importAddresses is POST /api/v1/admin/addresses: a CSV or a GeoJSON
// FeatureCollection of points, stored by name.
func (h *handlers) importAddresses(c echo.Context) error {
	body, err := uploadBody(c, catalogue.MaxAddressUpload)
	if err != nil {
		return err
	}
	res, err := h.Addresses.Import(c.Request().Context(), body)
	if err != nil {
		return err
	}
	out := importedJSON{Imported: res.Imported, Added: res.Added, Rejected: make([]rejectedJSON, len(res.Rejected))}
	for i, r := range res.Rejected {
		out.Rejected[i] = rejectedJSON{Line: r.Line, Message: r.Message}
	}
	return c.JSON(http.StatusOK, out)
}

// addressJSON is an address the book found, with the grid it lies in
// (grid_code and grid_name null: outside every grid).
type addressJSON struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Kind      string      `json:"kind"`
	Location  locationOut `json:"location"`
	GridCode  *string     `json:"grid_code"`
	GridName  *string     `json:"grid_name"`
	Community string      `json:"community,omitempty"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// searchAddresses is GET /api/v1/admin/addresses?q=&limit=.
func (h *handlers) searchAddresses(c echo.Context) error {
	limit := 10
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return model.InvalidNamed("limit", "条数必须是整数，不能是“%s”", s)
		}
		limit = n
	}
	hits, err := h.Addresses.Search(c.Request().Context(), c.QueryParam("q"), limit)
	if err != nil {
		return err
	}
	out := itemsJSON[addressJSON]{Items: make([]addressJSON, len(hits))}
	for i, a := range hits {
		out.Items[i] = addressJSON{ID: a.ID, Name: a.Name, Kind: string(a.Kind),
			Location:  locationOut{Lat: a.Point.Lat, Lng: a.Point.Lng, CoordType: string(model.CoordWGS84)},
			UpdatedAt: a.UpdatedAt.UTC()}
		if a.InGrid {
			code, name := a.Grid.Code, a.Grid.Name
			out.Items[i].GridCode, out.Items[i].GridName, out.Items[i].Community = &code, &name, a.Grid.Community
		}
	}
	return c.JSON(http.StatusOK, out)
}

// locateJSON is where a point falls: its grid, or none (a case there waits
// for a manual dispatch), and the point in WGS-84.
type locateJSON struct {
	Inside    bool        `json:"inside"`
	GridCode  *string     `json:"grid_code"`
	GridName  *string     `json:"grid_name"`
	Community string      `json:"community,omitempty"`
	Location  locationOut `json:"location"`
}

// locatePoint is GET /api/v1/admin/grids/locate?lat=&lng=&coord_type=: the
// grid a point (a click on the map, an address) lies in, as routing would
// find it — said before a hotline case is submitted.
func (h *handlers) locatePoint(c echo.Context) error {
	lat, err := floatParam(c, "lat", nil)
	if err != nil {
		return err
	}
	lng, err := floatParam(c, "lng", nil)
	if err != nil {
		return err
	}
	loc := model.Location{Lat: lat, Lng: lng, CoordType: model.CoordType(c.QueryParam("coord_type"))}
	if err := ticket.ValidateLocation("", loc); err != nil {
		return err
	}
	p := ticket.ToWGS84(loc)
	out := locateJSON{Location: locationOut{Lat: p.Lat, Lng: p.Lng, CoordType: string(model.CoordWGS84)}}
	if g, ok := h.Grids.Locate(p); ok {
		code, name := g.Code, g.Name
		out.Inside, out.GridCode, out.GridName, out.Community = true, &code, &name, g.Community
	}
	return c.JSON(http.StatusOK, out)
}

// layerJSON is a base layer with its GeoJSON FeatureCollection (WGS-84).
type layerJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Features  int             `json:"features"`
	CreatedAt time.Time       `json:"created_at"`
	GeoJSON   json.RawMessage `json:"geojson"`
}

func toLayer(l *model.Layer) layerJSON {
	return layerJSON{ID: l.ID, Name: l.Name, Kind: string(l.Kind), Features: l.Features, CreatedAt: l.CreatedAt.UTC(),
		GeoJSON: json.RawMessage(l.GeoJSON)}
}

// uploadLayer is POST /api/v1/admin/layers?name=&kind=: a GeoJSON
// FeatureCollection of lines and polygons, whose top-level "name" and
// "kind" members may stand in for the query's.
func (h *handlers) uploadLayer(c echo.Context) error {
	body, err := uploadBody(c, maxGridUpload)
	if err != nil {
		return err
	}
	name, kind := c.QueryParam("name"), c.QueryParam("kind")
	var top struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(body, &top); err == nil {
		name, kind = firstOf(name, top.Name), firstOf(kind, top.Kind)
	}
	l, err := h.Layers.Create(c.Request().Context(), currentUser(c), catalogue.LayerInput{Name: name, Kind: kind, GeoJSON: body})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toLayer(l))
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// listLayers is GET /api/v1/admin/layers: every layer with its geometry.
func (h *handlers) listLayers(c echo.Context) error {
	ls, err := h.Layers.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := itemsJSON[layerJSON]{Items: make([]layerJSON, len(ls))}
	for i := range ls {
		out.Items[i] = toLayer(&ls[i])
	}
	return c.JSON(http.StatusOK, out)
}

// deleteLayer is DELETE /api/v1/admin/layers/{id}.
func (h *handlers) deleteLayer(c echo.Context) error {
	if err := h.Layers.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
