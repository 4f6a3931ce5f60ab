package handler

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/open311"
)

// Open311Discovery is what the discovery document says about this
// endpoint.
type Open311Discovery struct {
	// URL is the endpoint's public base, e.g. https://cgt.example.gov.cn/open311/v2.
	URL        string
	Changeset  string
	Contact    string
	KeyService string
	// Type is production or test.
	Type string
}

// Open311Spec is the specification token of GeoReport v2 in discovery.
const Open311Spec = "http://wiki.open311.org/GeoReport_v2"

const (
	mimeXML  = "text/xml; charset=utf-8"
	mimeJSON = "application/json; charset=utf-8"
	// maxOpen311Form bounds a POSTed request: a 4,000-character description
	// and the rest fit many times over.
	maxOpen311Form = 64 << 10
)

// o311Format is the response format a path asks for.
type o311Format string

const (
	fmtXML  o311Format = "xml"
	fmtJSON o311Format = "json"
)

// o311Unknown answers anything else under the endpoint: a resource that
// does not exist, in the format its name asks for (XML, the required one,
// by default).
func (h *handlers) o311Unknown(c echo.Context) error {
	path := c.Request().URL.Path
	f := fmtXML
	if strings.HasSuffix(path, ".json") {
		f = fmtJSON
	}
	// A resource that exists, asked with a method it does not take, is
	// a request that cannot be fulfilled (400), not a missing one.
	if m := o311Resource.FindStringSubmatch(strings.TrimPrefix(path, "/open311/v2/")); m != nil {
		allow := http.MethodGet
		if m[1] == "requests." {
			allow = http.MethodGet + ", " + http.MethodPost
		}
		c.Response().Header().Set("Allow", allow)
		return h.o311Fail(c, f, model.Errorf(model.CodeInvalidArgument, "%s 不接受 %s 方法，只接受 %s", path, c.Request().Method, allow))
	}
	return h.o311Fail(c, f, model.Errorf(model.CodeNotFound, "没有这个 GeoReport v2 资源：%s %s", c.Request().Method, path))
}

// o311Resource matches the paths (below /open311/v2/) of every resource.
var o311Resource = regexp.MustCompile(`^(discovery\.|services\.|requests\.|services/[^/]+\.|requests/[^/]+\.|tokens/[^/]+\.)(xml|json)$`)

// o311Handler is the shape of a GeoReport v2 handler: it serves one call in
// format f, id being the path's id without its format extension. open311
// and open311ID adapt it to Echo's.
type o311Handler func(c echo.Context, f o311Format, id string) error

// open311 serves a resource in format f: errors in the request's format,
// jurisdiction_id checked first (discovery is not per jurisdiction).
func (h *handlers) open311(f o311Format, serve o311Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		return h.runOpen311(c, f, "", serve)
	}
}

// open311ID serves a resource named by the path parameter name,
// "<id>.<format>", like open311. Without a known format the answer is a 404
// in XML, the format every server has.
func (h *handlers) open311ID(name string, serve o311Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := c.Param(name)
		i := strings.LastIndexByte(v, '.')
		if i <= 0 || (v[i+1:] != string(fmtXML) && v[i+1:] != string(fmtJSON)) {
			return h.o311Fail(c, fmtXML, model.Errorf(model.CodeNotFound, "%s 须以 .xml 或 .json 结尾，而不是 %q", name, v))
		}
		return h.runOpen311(c, o311Format(v[i+1:]), v[:i], serve)
	}
}

func (h *handlers) runOpen311(c echo.Context, f o311Format, id string, serve o311Handler) error {
	r := c.Request()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxOpen311Form)
		ct := r.Header.Get(echo.HeaderContentType)
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), echo.MIMEApplicationForm) {
			return h.o311Fail(c, f, model.Invalid("Content-Type", "必须是 application/x-www-form-urlencoded，而不是 %q", ct))
		}
		if err := r.ParseForm(); err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				return h.o311Fail(c, f, model.Errorf(model.CodeInvalidArgument, "请求体超过 %d 字节", maxErr.Limit))
			}
			return h.o311Fail(c, f, model.Errorf(model.CodeInvalidArgument, "表单无法解析：%v", err))
		}
	} else if err := r.ParseForm(); err != nil {
		return h.o311Fail(c, f, model.Errorf(model.CodeInvalidArgument, "查询参数无法解析：%v", err))
	}
	if r.Method == http.MethodGet {
		// Public data without credentials: any web page may read it.
		c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	}
	if !strings.HasSuffix(c.Path(), "/discovery."+string(f)) {
		if err := h.Open311.CheckJurisdiction(param(r.Form, "jurisdiction_id")); err != nil {
			return h.o311Fail(c, f, err)
		}
	}
	if err := serve(c, f, id); err != nil {
		return h.o311Fail(c, f, err)
	}
	return nil
}

// param is a form or query value, trimmed; an empty one is absent.
func param(v map[string][]string, name string) string {
	for _, s := range v[name] {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// list is a parameter that may be given several times and comma
// separated; empty items are dropped.
func list(v map[string][]string, name string) []string {
	var out []string
	for _, s := range v[name] {
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// --- encoding ---------------------------------------------------------------

// respond writes v as XML (the declaration, no namespace) or as JSON.
func respond(c echo.Context, status int, f o311Format, xmlValue, jsonValue any) error {
	var b []byte
	var err error
	ct := mimeJSON
	if f == fmtXML {
		ct = mimeXML
		b, err = xml.MarshalIndent(xmlValue, "", "  ")
		b = append([]byte(xml.Header), b...)
	} else {
		b, err = json.Marshal(jsonValue)
	}
	if err != nil {
		return err
	}
	return c.Blob(status, ct, append(b, '\n'))
}

type o311ErrorXML struct {
	Code        int    `xml:"code"`
	Description string `xml:"description"`
}

type o311ErrorsXML struct {
	XMLName xml.Name       `xml:"errors"`
	Errors  []o311ErrorXML `xml:"error"`
}

type o311ErrorJSON struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

// o311Status maps an error code to GeoReport v2's statuses: 403 for a
// missing or bad api_key, 404 for what does not exist, 400 for any other
// request that cannot be fulfilled. Beyond the spec, a rate limit is 429
// (with Retry-After) and a failure on our side 500 or 503, so that clients
// and proxies can tell "retry later" from "fix the request".
func o311Status(code model.Code) int {
	switch code {
	case model.CodePermissionDenied, model.CodeUnauthenticated:
		return http.StatusForbidden
	case model.CodeNotFound:
		return http.StatusNotFound
	case model.CodeRateLimited:
		return http.StatusTooManyRequests
	case model.CodeUnavailable:
		return http.StatusServiceUnavailable
	case model.CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// fail writes err as a GeoReport v2 errors body in format f.
func (h *handlers) o311Fail(c echo.Context, f o311Format, err error) error {
	e := toModelError(err, c)
	status := o311Status(e.Code)
	msg := e.Message
	if status >= 500 {
		h.Logger.ErrorContext(c.Request().Context(), "request failed",
			"method", c.Request().Method, "route", c.Path(), "status", status, "error", err.Error())
		if e.Code == model.CodeInternal {
			msg = "内部错误，请联系城管局并提供请求编号 " + c.Response().Header().Get(echo.HeaderXRequestID)
		} else {
			msg = "服务暂时不可用，请稍后再试"
		}
	}
	if e.Code == model.CodeRateLimited && e.RetryAfterSeconds > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds))
	}
	return respond(c, status, f,
		o311ErrorsXML{Errors: []o311ErrorXML{{Code: status, Description: msg}}},
		[]o311ErrorJSON{{Code: status, Description: msg}})
}

// --- discovery --------------------------------------------------------------

type discoveryXML struct {
	XMLName    xml.Name      `xml:"discovery"`
	Changeset  string        `xml:"changeset"`
	Contact    string        `xml:"contact"`
	KeyService string        `xml:"key_service"`
	Endpoints  []endpointOut `xml:"endpoints>endpoint"`
}

// endpointOut is discovery's endpoint; formats are format elements in XML
// and an array of strings in JSON.
type endpointOut struct {
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}

type discoveryJSON struct {
	Changeset  string        `json:"changeset"`
	Contact    string        `json:"contact"`
	KeyService string        `json:"key_service"`
	Endpoints  []endpointOut `json:"endpoints"`
}

func (h *handlers) o311Discovery(c echo.Context, f o311Format, _ string) error {
	d := h.Open311Discovery
	eps := []endpointOut{{Specification: Open311Spec, URL: d.URL, Changeset: d.Changeset, Type: d.Type,
		Formats: []string{"text/xml", "application/json"}}}
	return respond(c, http.StatusOK, f,
		discoveryXML{Changeset: d.Changeset, Contact: d.Contact, KeyService: d.KeyService, Endpoints: eps},
		discoveryJSON{Changeset: d.Changeset, Contact: d.Contact, KeyService: d.KeyService, Endpoints: eps})
}

// --- services ---------------------------------------------------------------

// serviceOut is one service, in GeoReport v2's order.
type serviceOut struct {
	ServiceCode string `xml:"service_code" json:"service_code"`
	ServiceName string `xml:"service_name" json:"service_name"`
	Description string `xml:"description" json:"description"`
	Metadata    bool   `xml:"metadata" json:"metadata"`
	Type        string `xml:"type" json:"type"`
	Keywords    string `xml:"keywords" json:"keywords"`
	Group       string `xml:"group" json:"group"`
}

type servicesXML struct {
	XMLName  xml.Name     `xml:"services"`
	Services []serviceOut `xml:"service"`
}

func toService(cat model.Category) serviceOut {
	desc := cat.Name
	if cat.Major != "" {
		desc = cat.Major + "·" + cat.Name
	}
	desc += "；处置时限 " + strconv.Itoa(cat.SLAHours) + " 个工作小时"
	if cat.VolunteerSuitable {
		desc += "，社区在职党员可认领"
	}
	kw := []string{cat.Name}
	if cat.Major != "" {
		kw = append(kw, cat.Major)
	}
	kw = append(kw, cat.Code)
	// Services need no attributes (metadata=false) and get their id at once
	// (realtime).
	return serviceOut{ServiceCode: cat.Code, ServiceName: cat.Name, Description: desc, Metadata: false,
		Type: "realtime", Keywords: strings.Join(kw, ", "), Group: cat.Major}
}

func (h *handlers) o311Services(c echo.Context, f o311Format, _ string) error {
	cats, err := h.Open311.Services(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]serviceOut, len(cats))
	for i, cat := range cats {
		out[i] = toService(cat)
	}
	return respond(c, http.StatusOK, f, servicesXML{Services: out}, out)
}

// attributeOut is one service attribute. The catalogue defines none yet;
// the type documents the shape a definition would carry.
type attributeOut struct {
	Variable            bool   `xml:"variable" json:"variable"`
	Code                string `xml:"code" json:"code"`
	Datatype            string `xml:"datatype" json:"datatype"`
	Required            bool   `xml:"required" json:"required"`
	DatatypeDescription string `xml:"datatype_description" json:"datatype_description"`
	Order               int    `xml:"order" json:"order"`
	Description         string `xml:"description" json:"description"`
}

type definitionXML struct {
	XMLName     xml.Name `xml:"service_definition"`
	ServiceCode string   `xml:"service_code"`
	Attributes  struct {
		Attribute []attributeOut `xml:"attribute"`
	} `xml:"attributes"`
}

type definitionJSON struct {
	ServiceCode string         `json:"service_code"`
	Attributes  []attributeOut `json:"attributes"`
}

func (h *handlers) o311Definition(c echo.Context, f o311Format, code string) error {
	cat, err := h.Open311.Service(c.Request().Context(), code)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, f, definitionXML{ServiceCode: cat.Code},
		definitionJSON{ServiceCode: cat.Code, Attributes: []attributeOut{}})
}

// --- requests ---------------------------------------------------------------

// requestXML is a service request in GeoReport v2's element order.
type requestXML struct {
	ServiceRequestID  string `xml:"service_request_id"`
	Status            string `xml:"status"`
	StatusNotes       string `xml:"status_notes"`
	ServiceName       string `xml:"service_name"`
	ServiceCode       string `xml:"service_code"`
	Description       string `xml:"description"`
	AgencyResponsible string `xml:"agency_responsible"`
	ServiceNotice     string `xml:"service_notice"`
	RequestedDatetime string `xml:"requested_datetime"`
	UpdatedDatetime   string `xml:"updated_datetime"`
	ExpectedDatetime  string `xml:"expected_datetime"`
	Address           string `xml:"address"`
	AddressID         string `xml:"address_id"`
	Zipcode           string `xml:"zipcode"`
	Lat               string `xml:"lat"`
	Long              string `xml:"long"`
	MediaURL          string `xml:"media_url"`
}

// requestJSON is the same in JSON: an empty element is null (Spark).
type requestJSON struct {
	ServiceRequestID  string  `json:"service_request_id"`
	Status            string  `json:"status"`
	StatusNotes       *string `json:"status_notes"`
	ServiceName       *string `json:"service_name"`
	ServiceCode       string  `json:"service_code"`
	Description       *string `json:"description"`
	AgencyResponsible *string `json:"agency_responsible"`
	ServiceNotice     *string `json:"service_notice"`
	RequestedDatetime string  `json:"requested_datetime"`
	UpdatedDatetime   *string `json:"updated_datetime"`
	ExpectedDatetime  *string `json:"expected_datetime"`
	Address           *string `json:"address"`
	AddressID         *string `json:"address_id"`
	Zipcode           *string `json:"zipcode"`
	Lat               float64 `json:"lat"`
	Long              float64 `json:"long"`
	MediaURL          *string `json:"media_url"`
}

type requestsXML struct {
	XMLName  xml.Name     `xml:"service_requests"`
	Requests []requestXML `xml:"request"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (h *handlers) o311WriteRequests(c echo.Context, f o311Format, rs []open311.Request) error {
	xs := make([]requestXML, len(rs))
	js := make([]requestJSON, len(rs))
	for i, r := range rs {
		xs[i] = requestXML{
			ServiceRequestID: r.ID, Status: r.Status, StatusNotes: r.StatusNotes, ServiceName: r.ServiceName,
			ServiceCode: r.ServiceCode, Description: r.Description, AgencyResponsible: r.AgencyResponsible,
			ServiceNotice: r.ServiceNotice, RequestedDatetime: open311.W3C(r.Requested), UpdatedDatetime: open311.W3C(r.Updated),
			ExpectedDatetime: open311.W3C(r.Expected), Address: r.Address, Lat: coord(r.Lat), Long: coord(r.Long), MediaURL: r.MediaURL,
		}
		x := xs[i]
		js[i] = requestJSON{
			ServiceRequestID: x.ServiceRequestID, Status: x.Status, StatusNotes: nullable(x.StatusNotes),
			ServiceName: nullable(x.ServiceName), ServiceCode: x.ServiceCode, Description: nullable(x.Description),
			AgencyResponsible: nullable(x.AgencyResponsible), ServiceNotice: nullable(x.ServiceNotice),
			RequestedDatetime: x.RequestedDatetime, UpdatedDatetime: nullable(x.UpdatedDatetime),
			ExpectedDatetime: nullable(x.ExpectedDatetime), Address: nullable(x.Address), Lat: r.Lat, Long: r.Long,
			MediaURL: nullable(x.MediaURL),
		}
	}
	return respond(c, http.StatusOK, f, requestsXML{Requests: xs}, js)
}

func (h *handlers) o311Requests(c echo.Context, f o311Format, _ string) error {
	v := c.Request().Form
	q := open311.Query{IDs: list(v, "service_request_id"), ClientIP: c.RealIP()}
	if len(q.IDs) == 0 {
		// service_request_id overrides every other parameter, which are
		// then neither read nor checked.
		var err error
		q.ServiceCodes, q.Statuses = list(v, "service_code"), list(v, "status")
		if q.Start, err = w3cParam(v, "start_date", false); err != nil {
			return err
		}
		if q.End, err = w3cParam(v, "end_date", true); err != nil {
			return err
		}
		if q.Page, err = intParam(v, "page"); err != nil {
			return err
		}
		if q.PageSize, err = intParam(v, "page_size"); err != nil {
			return err
		}
	}
	rs, err := h.Open311.Requests(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return h.o311WriteRequests(c, f, rs)
}

func (h *handlers) o311Request(c echo.Context, f o311Format, id string) error {
	r, err := h.Open311.Request(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.o311WriteRequests(c, f, []open311.Request{*r})
}

// w3cParam reads a W3C datetime with its zone (2026-01-01T08:00:00+08:00,
// …Z, with or without seconds). A date alone is a day in China Standard
// Time: its start, or for an end its last second. A "+" that a client
// did not encode arrives as a space and is taken back.
func w3cParam(v map[string][]string, name string, end bool) (*time.Time, error) {
	s := param(v, name)
	if s == "" {
		return nil, nil
	}
	if i := strings.IndexByte(s, 'T'); i > 0 && strings.Contains(s[i:], " ") {
		s = s[:i] + strings.Replace(s[i:], " ", "+", 1)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return &t, nil
		}
	}
	if d, err := time.ParseInLocation("2006-01-02", s, shanghai); err == nil {
		if end {
			d = d.Add(24*time.Hour - time.Second)
		}
		return &d, nil
	}
	return nil, model.Invalid(name, "%q 不是带时区的 W3C 日期时间，例如 2026-01-01T00:00:00+08:00 或 2026-01-01T00:00:00Z", s)
}

func intParam(v map[string][]string, name string) (int, error) {
	s := param(v, name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, model.Invalid(name, "必须是正整数，而不是 %q", s)
	}
	return n, nil
}

// --- POST requests ----------------------------------------------------------

type createdXML struct {
	XMLName  xml.Name        `xml:"service_requests"`
	Requests []createdXMLReq `xml:"request"`
}

type createdXMLReq struct {
	ServiceRequestID string `xml:"service_request_id"`
	ServiceNotice    string `xml:"service_notice"`
	AccountID        string `xml:"account_id"`
}

type createdJSON struct {
	ServiceRequestID string  `json:"service_request_id"`
	ServiceNotice    string  `json:"service_notice"`
	AccountID        *string `json:"account_id"`
}

func (h *handlers) o311Create(c echo.Context, f o311Format, _ string) error {
	ctx := c.Request().Context()
	v := c.Request().Form
	key, err := h.Open311.Authenticate(ctx, param(v, "api_key"))
	if err != nil {
		return err
	}
	// attribute[...] are answers to a definition's attributes; no service
	// defines any, so they are accepted and ignored.
	in := open311.Input{
		ServiceCode: param(v, "service_code"), Lat: param(v, "lat"), Long: param(v, "long"), CoordType: param(v, "coord_type"),
		AddressString: param(v, "address_string"), AddressID: param(v, "address_id"), Email: param(v, "email"),
		DeviceID: param(v, "device_id"), AccountID: param(v, "account_id"), FirstName: param(v, "first_name"),
		LastName: param(v, "last_name"), Phone: param(v, "phone"), Description: param(v, "description"),
		MediaURL: param(v, "media_url"), IdempotencyKey: strings.TrimSpace(c.Request().Header.Get("Idempotency-Key")),
	}
	r, err := h.Open311.Create(ctx, key, in)
	if err != nil {
		return err
	}
	// account_id "may not be returned": what a client sent about a person
	// is kept for staff.
	x := createdXML{Requests: []createdXMLReq{{ServiceRequestID: r.ID, ServiceNotice: r.Notice}}}
	return respond(c, http.StatusOK, f, x, []createdJSON{{ServiceRequestID: r.ID, ServiceNotice: r.Notice}})
}

// --- tokens -----------------------------------------------------------------

type tokenXML struct {
	XMLName  xml.Name   `xml:"service_requests"`
	Requests []tokenOut `xml:"request"`
}

type tokenOut struct {
	ServiceRequestID string `xml:"service_request_id" json:"service_request_id"`
	Token            string `xml:"token" json:"token"`
}

func (h *handlers) o311Token(c echo.Context, f o311Format, token string) error {
	id, err := h.Open311.Token(c.Request().Context(), token)
	if err != nil {
		return err
	}
	out := []tokenOut{{ServiceRequestID: id, Token: token}}
	return respond(c, http.StatusOK, f, tokenXML{Requests: out}, out)
}
