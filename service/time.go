package service

import (
	"time"
	_ "time/tzdata" // Asia/Shanghai on machines without a zone database
)

// shanghai is China Standard Time: days and months of the statistics and
// the daily limits are counted in it.
var shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}

// Shanghai returns China Standard Time, in which the statistics' days fall.
func Shanghai() *time.Location { return shanghai }
