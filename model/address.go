package model

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// AddressKind is the kind of a standard address of the address book
// (地址库, GB/T 30428.3 地理编码). The kinds are Chinese words: the CSV a
// bureau keeps has them so.
type AddressKind string

// The kinds of standard address.
const (
	AddressDoor     AddressKind = "门牌" // a house number
	AddressRoad     AddressKind = "道路" // a road
	AddressEstate   AddressKind = "小区" // a residential estate
	AddressLandmark AddressKind = "地标" // a landmark
)

// AddressKinds are every kind, in the order forms list them.
var AddressKinds = []AddressKind{AddressDoor, AddressRoad, AddressEstate, AddressLandmark}

// Valid reports whether k is one of the kinds.
func (k AddressKind) Valid() bool {
	for _, x := range AddressKinds {
		if k == x {
			return true
		}
	}
	return false
}

// Address is a standard address with its position: what a clerk taking a
// hotline call picks instead of typing coordinates. Its name is unique (an
// upload replaces the address of the same name).
type Address struct {
	ID   string
	Name string
	Kind AddressKind
	// Point is the position in WGS-84, whatever the upload's coordinates.
	Point     Point
	UpdatedAt time.Time
}

// Limits of the address book.
const (
	// MaxAddressName bounds a name, in characters.
	MaxAddressName = 100
	// MaxAddresses bounds the address book.
	MaxAddresses = 200_000
	// MaxAddressRows bounds one upload.
	MaxAddressRows = 50_000
)

// LayerKind is what a base layer of the map draws.
type LayerKind string

// The kinds of base layer.
const (
	LayerRoad     LayerKind = "road"     // roads (lines)
	LayerBoundary LayerKind = "boundary" // boundaries (lines or polygons)
	LayerOther    LayerKind = "other"
)

// LayerKinds are every kind.
var LayerKinds = []LayerKind{LayerRoad, LayerBoundary, LayerOther}

// Valid reports whether k is one of the kinds.
func (k LayerKind) Valid() bool { return k == LayerRoad || k == LayerBoundary || k == LayerOther }

// Label is the kind in Chinese.
func (k LayerKind) Label() string {
	switch k {
	case LayerRoad:
		return "道路"
	case LayerBoundary:
		return "边界"
	case LayerOther:
		return "其他"
	}
	return string(k)
}

// Layer is a base layer the map draws under the grids (roads,
// boundaries): a GeoJSON FeatureCollection of lines and polygons, in
// WGS-84, kept as its JSON text (a document store without nested arrays
// keeps it so; nothing queries inside it).
type Layer struct {
	ID        string
	Name      string
	Kind      LayerKind
	GeoJSON   []byte
	Features  int
	CreatedBy string
	CreatedAt time.Time
}

// Limits of the base layers.
const (
	// MaxLayers bounds how many layers there are.
	MaxLayers = 20
	// MaxLayerBytes bounds one layer's GeoJSON (the map reads every layer
	// at once).
	MaxLayerBytes = 4 << 20
)

// AddressMatch is how well an address's name matches a search: the name
// itself (0), a name that starts with the search (1), a name that contains
// every word (2); -1 for none. Latin letters match in any case.
func AddressMatch(name string, words []string) int {
	lower := strings.ToLower(name)
	for _, w := range words {
		if !strings.Contains(lower, strings.ToLower(w)) {
			return -1
		}
	}
	if len(words) == 1 {
		w := strings.ToLower(words[0])
		switch {
		case lower == w:
			return 0
		case strings.HasPrefix(lower, w):
			return 1
		}
	}
	return 2
}

// SortAddresses orders the addresses a search found, best first: by
// AddressMatch, then shorter names, then by name; those that do not match
// are dropped.
func SortAddresses(as []Address, words []string) []Address {
	rank := make(map[string]int, len(as))
	out := as[:0]
	for _, a := range as {
		if r := AddressMatch(a.Name, words); r >= 0 {
			rank[a.Name] = r
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b Address) int {
		return cmp.Or(cmp.Compare(rank[a.Name], rank[b.Name]),
			cmp.Compare(utf8.RuneCountInString(a.Name), utf8.RuneCountInString(b.Name)), strings.Compare(a.Name, b.Name))
	})
	return out
}
