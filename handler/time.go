package handler

import (
	"time"
	_ "time/tzdata" // Asia/Shanghai on machines without a zone database
)

// shanghai is China Standard Time, in which the API's dates are read.
var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()
