package model

// Source is the channel a ticket came in by (GB/T 30428 信息采集 has several).
type Source string

// The channels of the HTTP API (docs/openapi.yaml, Ticket.source). A ticket stored before sources existed is a
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

// Label is the channel in Chinese, for the console, exports and statistics.
func (s Source) Label() string {
	switch s {
	case SourceWeChat:
		return "微信随手拍"
	case SourcePatrol:
		return "网格员巡查"
	case SourceHotline:
		return "12345 热线"
	case SourceOpen311:
		return "Open311 接口"
	}
	return string(s)
}
