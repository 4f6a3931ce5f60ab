package model

// Source is the channel a ticket came in by (GB/T 30428 信息采集 has several).
type Source string

// The channels of API.md. A ticket stored before sources existed is a
// resident's WeChat report.
const (
	SourceWeChat  Source = "wechat"  // a resident's 随手拍 from the mini-program
	SourcePatrol  Source = "patrol"  // a grid worker's 巡查上报
	SourceHotline Source = "hotline" // a 12345 hotline case entered by staff
	SourceOpen311 Source = "open311" // a GeoReport v2 client with an api key
)

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool {
	switch s {
	case SourceWeChat, SourcePatrol, SourceHotline, SourceOpen311:
		return true
	}
	return false
}
