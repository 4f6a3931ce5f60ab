package model

import "time"

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
	MaxLayers = 50
	// MaxLayerBytes bounds one layer's GeoJSON.
	MaxLayerBytes = 8 << 20
)
