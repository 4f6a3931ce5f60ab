package main

// An independent GeoReport v2 validator: a client written from the text of
// the specification (wiki.open311.org/GeoReport_v2 and /Service_Discovery),
// sharing no type or helper with the server or with the conformance test.
// Given the discovery URL, it walks discovery → services → service
// definitions → requests as a third-party client would, in every format
// discovery lists, and reports every required field that is missing or
// malformed, and files a request with POST as a client with a key would.

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What the specification's text calls for.
const specGeoReportV2 = "http://wiki.open311.org/GeoReport_v2"

var (
	// "All date/time fields must be formatted in a common subset of ISO 8601
	// as per the w3 note. Timezone information (either Z meaning UTC, or an
	// HH:MM offset from UTC) must be included."
	w3cWithZone = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$`)
	datatypes   = map[string]bool{"string": true, "number": true, "datetime": true, "text": true, "singlevaluelist": true, "multivaluelist": true}
	serviceType = map[string]bool{"realtime": true, "batch": true, "blackbox": true}
)

type vDiscovery struct {
	XMLName    xml.Name `xml:"discovery"`
	Changeset  *string  `xml:"changeset" json:"changeset"`
	Contact    *string  `xml:"contact" json:"contact"`
	KeyService *string  `xml:"key_service" json:"key_service"`
	Endpoints  []struct {
		Specification string   `xml:"specification" json:"specification"`
		URL           string   `xml:"url" json:"url"`
		Changeset     *string  `xml:"changeset" json:"changeset"`
		Type          string   `xml:"type" json:"type"`
		Formats       []string `xml:"formats>format" json:"formats"`
	} `xml:"endpoints>endpoint" json:"endpoints"`
}

type vService struct {
	Code        string  `xml:"service_code" json:"service_code"`
	Name        string  `xml:"service_name" json:"service_name"`
	Description *string `xml:"description" json:"description"`
	Metadata    string  `xml:"metadata" json:"-"`
	MetadataJ   *bool   `xml:"-" json:"metadata"`
	Type        string  `xml:"type" json:"type"`
	Keywords    *string `xml:"keywords" json:"keywords"`
	Group       *string `xml:"group" json:"group"`
}

type vServices struct {
	XMLName  xml.Name   `xml:"services"`
	Services []vService `xml:"service"`
}

type vAttribute struct {
	Variable  string `xml:"variable" json:"-"`
	VariableJ *bool  `xml:"-" json:"variable"`
	Code      string `xml:"code" json:"code"`
	Datatype  string `xml:"datatype" json:"datatype"`
	Required  string `xml:"required" json:"-"`
	RequiredJ *bool  `xml:"-" json:"required"`
	Order     int    `xml:"order" json:"order"`
	Values    []struct {
		Key  string `xml:"key" json:"key"`
		Name string `xml:"name" json:"name"`
	} `xml:"values>value" json:"values"`
}

type vDefinition struct {
	XMLName    xml.Name      `xml:"service_definition"`
	Code       string        `xml:"service_code" json:"service_code"`
	Attributes *[]vAttribute `xml:"attributes>attribute" json:"attributes"`
}

type vRequest struct {
	ID        string   `xml:"service_request_id" json:"service_request_id"`
	Status    string   `xml:"status" json:"status"`
	Code      string   `xml:"service_code" json:"service_code"`
	Requested string   `xml:"requested_datetime" json:"requested_datetime"`
	Updated   string   `xml:"updated_datetime" json:"updated_datetime"`
	Expected  string   `xml:"expected_datetime" json:"expected_datetime"`
	Lat       string   `xml:"lat" json:"-"`
	Long      string   `xml:"long" json:"-"`
	LatJ      *float64 `xml:"-" json:"-"`
	LongJ     *float64 `xml:"-" json:"-"`
}

type vRequests struct {
	XMLName  xml.Name   `xml:"service_requests"`
	Requests []vRequest `xml:"request"`
}

// validator collects the problems it finds.
type validator struct {
	client   *http.Client
	problems []string
}

func (v *validator) bad(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// get fetches url and checks the content type the spec gives for its
// format ("text/xml; charset=utf-8", "application/json; charset=utf-8").
func (v *validator) get(url string, wantStatus int) ([]byte, bool) {
	resp, err := v.client.Get(url)
	if err != nil {
		v.bad("GET %s: %v", url, err)
		return nil, false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		v.bad("GET %s: status %d, want %d", url, resp.StatusCode, wantStatus)
		return nil, false
	}
	ct := strings.ToLower(strings.ReplaceAll(resp.Header.Get("Content-Type"), " ", ""))
	switch {
	case strings.HasSuffix(url, ".xml") || strings.Contains(url, ".xml?"):
		if ct != "text/xml;charset=utf-8" {
			v.bad("GET %s: Content-Type %q", url, resp.Header.Get("Content-Type"))
		}
		// "the root element must be preceded with the XML declaration
		// including the encoding="UTF-8" attribute"
		if !strings.HasPrefix(string(body), "<?xml") || !strings.Contains(strings.ToLower(strings.SplitN(string(body), "?>", 2)[0]), `encoding="utf-8"`) {
			v.bad("GET %s: no XML declaration with encoding UTF-8", url)
		}
		// "schemaless and without a namespace declaration"
		if strings.Contains(string(body), "xmlns") {
			v.bad("GET %s: the XML declares a namespace", url)
		}
	default:
		if ct != "application/json;charset=utf-8" {
			v.bad("GET %s: Content-Type %q", url, resp.Header.Get("Content-Type"))
		}
	}
	return body, true
}

func (v *validator) decode(url, format string, body []byte, into any) bool {
	var err error
	if format == "xml" {
		err = xml.Unmarshal(body, into)
	} else {
		err = json.Unmarshal(body, into)
	}
	if err != nil {
		v.bad("GET %s: does not decode: %v", url, err)
		return false
	}
	return true
}

func formatOf(mime string) string {
	switch mime {
	case "text/xml":
		return "xml"
	case "application/json":
		return "json"
	}
	return ""
}

// validate walks a provider from its discovery URL (ending in
// /discovery.xml).
func (v *validator) validate(discoveryURL string) {
	if !strings.HasSuffix(discoveryURL, "/discovery.xml") {
		v.bad("discovery URL %s must end in /discovery.<format>", discoveryURL)
		return
	}
	// "Format must be both: xml, json."
	var endpoints []string
	var formatsOf = map[string][]string{}
	for _, format := range []string{"xml", "json"} {
		url := strings.TrimSuffix(discoveryURL, ".xml") + "." + format
		body, ok := v.get(url, 200)
		if !ok {
			continue
		}
		var d vDiscovery
		if !v.decode(url, format, body, &d) {
			continue
		}
		// "All fields are required."
		if d.Changeset == nil || *d.Changeset == "" {
			v.bad("%s: changeset missing", url)
		}
		if d.Contact == nil || *d.Contact == "" {
			v.bad("%s: contact missing", url)
		}
		if d.KeyService == nil || *d.KeyService == "" {
			v.bad("%s: key_service missing", url)
		}
		if len(d.Endpoints) == 0 {
			v.bad("%s: no endpoints", url)
		}
		for i, e := range d.Endpoints {
			if e.Specification == "" || e.URL == "" || e.Changeset == nil || *e.Changeset == "" {
				v.bad("%s: endpoint %d lacks specification, url or changeset", url, i)
			}
			if e.Type != "production" && e.Type != "test" {
				v.bad("%s: endpoint %d type %q is neither production nor test", url, i, e.Type)
			}
			if len(e.Formats) == 0 {
				v.bad("%s: endpoint %d lists no formats", url, i)
			}
			if e.Specification == specGeoReportV2 && format == "xml" {
				endpoints = append(endpoints, e.URL)
				formatsOf[e.URL] = e.Formats
			}
		}
	}
	if len(endpoints) == 0 {
		v.bad("discovery lists no %s endpoint", specGeoReportV2)
	}
	for _, base := range endpoints {
		// "XML is a required format"
		hasXML := false
		for _, m := range formatsOf[base] {
			hasXML = hasXML || m == "text/xml"
		}
		if !hasXML {
			v.bad("endpoint %s does not list text/xml", base)
		}
		for _, m := range formatsOf[base] {
			if f := formatOf(m); f != "" {
				v.endpoint(base, f)
			}
		}
	}
}

func (v *validator) endpoint(base, format string) {
	url := base + "/services." + format
	body, ok := v.get(url, 200)
	if !ok {
		return
	}
	var services []vService
	if format == "xml" {
		var s vServices
		if !v.decode(url, format, body, &s) {
			return
		}
		services = s.Services
	} else if !v.decode(url, format, body, &services) {
		return
	}
	if len(services) == 0 {
		v.bad("%s: no services", url)
	}
	seen := map[string]bool{}
	for _, s := range services {
		if s.Code == "" || s.Name == "" {
			v.bad("%s: a service lacks service_code or service_name", url)
			continue
		}
		if seen[s.Code] {
			v.bad("%s: service_code %s twice", url, s.Code)
		}
		seen[s.Code] = true
		metadata := s.Metadata
		if format == "json" {
			if s.MetadataJ == nil {
				v.bad("%s: service %s: metadata is not true or false", url, s.Code)
				continue
			}
			metadata = strconv.FormatBool(*s.MetadataJ)
		}
		if metadata != "true" && metadata != "false" {
			v.bad("%s: service %s: metadata %q", url, s.Code, metadata)
		}
		if !serviceType[s.Type] {
			v.bad("%s: service %s: type %q", url, s.Code, s.Type)
		}
		v.definition(base, format, s.Code, metadata == "true")
	}
	// A service that does not exist: "404 - service_code ... not found",
	// with an errors body.
	v.errorBody(base+"/services/no-such-service-0."+format, format, 404)
	v.requests(base, format)
}

func (v *validator) definition(base, format, code string, metadata bool) {
	url := base + "/services/" + code + "." + format
	body, ok := v.get(url, 200)
	if !ok {
		return
	}
	var d vDefinition
	if !v.decode(url, format, body, &d) {
		return
	}
	if d.Code != code {
		v.bad("%s: service_code %q, not the one asked for", url, d.Code)
	}
	if format == "xml" && !strings.Contains(string(body), "<attributes") {
		v.bad("%s: no attributes element", url)
	}
	if format == "json" && d.Attributes == nil {
		v.bad("%s: no attributes array", url)
	}
	var attrs []vAttribute
	if d.Attributes != nil {
		attrs = *d.Attributes
	}
	if metadata && len(attrs) == 0 {
		v.bad("%s: metadata is true but there are no attributes", url)
	}
	orders, codes := map[int]bool{}, map[string]bool{}
	for _, a := range attrs {
		variable, required := a.Variable, a.Required
		if format == "json" {
			variable, required = fmt.Sprint(a.VariableJ != nil && *a.VariableJ), fmt.Sprint(a.RequiredJ != nil && *a.RequiredJ)
		}
		if variable != "true" && variable != "false" || required != "true" && required != "false" {
			v.bad("%s: attribute %s: variable or required not true/false", url, a.Code)
		}
		if a.Code == "" || codes[a.Code] {
			v.bad("%s: attribute code %q missing or repeated", url, a.Code)
		}
		codes[a.Code] = true
		if !datatypes[a.Datatype] {
			v.bad("%s: attribute %s: datatype %q", url, a.Code, a.Datatype)
		}
		if a.Order < 1 || orders[a.Order] {
			v.bad("%s: attribute %s: order %d not a positive integer unused by others", url, a.Code, a.Order)
		}
		orders[a.Order] = true
		if strings.HasSuffix(a.Datatype, "valuelist") && len(a.Values) == 0 {
			v.bad("%s: attribute %s: a list without values", url, a.Code)
		}
	}
}

func (v *validator) requests(base, format string) {
	url := base + "/requests." + format
	body, ok := v.get(url, 200)
	if !ok {
		return
	}
	var rs []vRequest
	if format == "xml" {
		var x vRequests
		if !v.decode(url, format, body, &x) {
			return
		}
		rs = x.Requests
	} else {
		var raw []map[string]any
		if !v.decode(url, format, body, &raw) {
			return
		}
		for _, m := range raw {
			r := vRequest{}
			r.ID, _ = m["service_request_id"].(string)
			r.Status, _ = m["status"].(string)
			r.Code, _ = m["service_code"].(string)
			r.Requested, _ = m["requested_datetime"].(string)
			r.Updated, _ = m["updated_datetime"].(string)
			r.Expected, _ = m["expected_datetime"].(string)
			if f, ok := m["lat"].(float64); ok {
				r.LatJ = &f
			}
			if f, ok := m["long"].(float64); ok {
				r.LongJ = &f
			}
			rs = append(rs, r)
		}
	}
	for _, r := range rs {
		if r.ID == "" || r.Code == "" {
			v.bad("%s: a request lacks service_request_id or service_code", url)
		}
		if r.Status != "open" && r.Status != "closed" {
			v.bad("%s: request %s: status %q", url, r.ID, r.Status)
		}
		for name, d := range map[string]string{"requested_datetime": r.Requested, "updated_datetime": r.Updated, "expected_datetime": r.Expected} {
			if (d != "" || name == "requested_datetime") && !w3cWithZone.MatchString(d) {
				v.bad("%s: request %s: %s %q is not a W3C datetime with a zone", url, r.ID, name, d)
			}
		}
		lat, lng := r.LatJ, r.LongJ
		if format == "xml" {
			if f, err := strconv.ParseFloat(r.Lat, 64); err == nil {
				lat = &f
			}
			if f, err := strconv.ParseFloat(r.Long, 64); err == nil {
				lng = &f
			}
		}
		if lat == nil || lng == nil || *lat < -90 || *lat > 90 || *lng < -180 || *lng > 180 {
			v.bad("%s: request %s: lat/long missing or out of range", url, r.ID)
		}
	}
	// "the range defaults to most recent 90 days"; "may not span more than
	// 90 days"
	start := time.Now().AddDate(0, 0, -200).UTC().Format(time.RFC3339)
	end := time.Now().UTC().Format(time.RFC3339)
	v.errorBody(url+"?start_date="+start+"&end_date="+end, format, 400)
}

// post files a request and checks the answer: "service_requests ⇊ request
// ↴" with a service_request_id or a token — "This should not be returned
// if token is returned" — and, when it is an id, that the request can be
// read back.
func (v *validator) post(base, format string, form url.Values) {
	target := base + "/requests." + format
	resp, err := v.client.PostForm(target, form)
	if err != nil {
		v.bad("POST %s: %v", target, err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		v.bad("POST %s: status %d: %s", target, resp.StatusCode, body)
		return
	}
	type created struct {
		ID    string `xml:"service_request_id" json:"service_request_id"`
		Token string `xml:"token" json:"token"`
	}
	var cs []created
	if format == "xml" {
		var x struct {
			XMLName  xml.Name  `xml:"service_requests"`
			Requests []created `xml:"request"`
		}
		if !v.decode(target, format, body, &x) {
			return
		}
		cs = x.Requests
	} else if !v.decode(target, format, body, &cs) {
		return
	}
	if len(cs) != 1 || (cs[0].ID == "") == (cs[0].Token == "") {
		v.bad("POST %s: want one request with either service_request_id or token: %s", target, body)
		return
	}
	if cs[0].ID != "" {
		if _, ok := v.get(base+"/requests/"+cs[0].ID+"."+format, 200); !ok {
			v.bad("POST %s: the request created cannot be read back", target)
		}
	}
	// "403 - Missing or Invalid API Key"
	form.Del("api_key")
	if r, err := v.client.PostForm(target, form); err != nil || r.StatusCode != 403 {
		v.bad("POST %s without api_key: %v %v, want 403", target, err, r)
	} else {
		r.Body.Close()
	}
}

// errorBody checks an error answer: the status and "errors ⇊ error ↴ code,
// description".
func (v *validator) errorBody(url, format string, status int) {
	body, ok := v.get(url, status)
	if !ok {
		return
	}
	type verr struct {
		Code        json.Number `json:"code"`
		Description string      `json:"description"`
	}
	var es []verr
	if format == "xml" {
		var x struct {
			XMLName xml.Name `xml:"errors"`
			Errors  []struct {
				Code        string `xml:"code"`
				Description string `xml:"description"`
			} `xml:"error"`
		}
		if !v.decode(url, format, body, &x) {
			return
		}
		for _, e := range x.Errors {
			es = append(es, verr{Code: json.Number(e.Code), Description: e.Description})
		}
	} else if !v.decode(url, format, body, &es) {
		return
	}
	if len(es) == 0 {
		v.bad("%s: an error without errors", url)
	}
	for _, e := range es {
		if e.Code == "" || e.Description == "" {
			v.bad("%s: an error lacks code or description", url)
		}
	}
}

func TestOpen311IndependentValidator(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	// One request filed, so that the listings have something to check.
	staff := s.LoginStaff(t, adminUser, adminPass)
	key := s.Do(t, "POST", "/api/v1/admin/open311/keys", staff, map[string]string{"name": "validator"}).JSON(t)["api_key"].(string)
	v := &validator{client: &http.Client{Timeout: 30 * time.Second}}
	for _, f := range []string{"xml", "json"} {
		v.post(s.Base+"/open311/v2", f, url.Values{
			"api_key": {key}, "service_code": {"0101"}, "lat": {"32.0415"}, "long": {"118.7845"}, "description": {"垃圾堆在路口"},
		})
	}
	v.validate(s.Base + "/open311/v2/discovery.xml")
	for _, p := range v.problems {
		t.Error(p)
	}
	if body, _ := v.get(s.Base+"/open311/v2/requests.json", 200); !strings.Contains(string(body), `"service_code":"0101"`) {
		t.Fatalf("the filed request is not listed: %s", body)
	}

	// The validator finds what it is meant to: a provider that breaks the
	// rules fails it.
	broken := startFakeProvider(t)
	w := &validator{client: &http.Client{Timeout: 30 * time.Second}}
	w.validate(broken + "/discovery.xml")
	if len(w.problems) < 8 {
		t.Fatalf("the validator missed mistakes of a broken provider: %v", w.problems)
	}
	t.Logf("the broken provider fails with %d problems: %v", len(w.problems), w.problems)
}

// startFakeProvider serves a GeoReport v2 endpoint with mistakes: no key
// service, a namespace, a bad type and metadata, and datetimes without a
// zone.
func startFakeProvider(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("/discovery.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><discovery><changeset>1</changeset><contact>x</contact><endpoints><endpoint><specification>%s</specification><url>%s</url><changeset>1</changeset><type>live</type><formats><format>text/xml</format></formats></endpoint></endpoints></discovery>`, specGeoReportV2, base)
	})
	mux.HandleFunc("/discovery.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	})
	mux.HandleFunc("/services.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><services xmlns="http://example.org/"><service><service_code>1</service_code><service_name>x</service_name><metadata>maybe</metadata><type>instant</type></service></services>`)
	})
	mux.HandleFunc("/requests.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><service_requests><request><service_request_id>1</service_request_id><status>pending</status><service_code>1</service_code><requested_datetime>2026-01-01 08:00</requested_datetime><lat>x</lat></request></service_requests>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base = srv.URL
	return srv.URL
}
