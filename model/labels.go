package model

// TicketFlag is a mark a ticket carries beside its status, by the name of
// the field of the staff's view that carries it (held, overdue …): the
// console shows each with its Label.
type TicketFlag string

// The marks of a ticket in the staff's view.
const (
	FlagHeld        TicketFlag = "held"         // a report held for a content review
	FlagOverdue     TicketFlag = "overdue"      // open and past its deadline
	FlagLate        TicketFlag = "late"         // closed after its deadline
	FlagEscalated   TicketFlag = "escalated"    // its deadline passed while open (超期升级)
	FlagPool        TicketFlag = "pool"         // offered to the community's party members
	FlagSelfHandled TicketFlag = "self_handled" // a patrol case handled on the spot
	FlagPhotoFlags  TicketFlag = "photo_flags"  // the "after" photos want a 核查
)

// TicketFlags are every mark, in the order the console shows them.
var TicketFlags = []TicketFlag{FlagHeld, FlagOverdue, FlagLate, FlagEscalated, FlagPool, FlagSelfHandled, FlagPhotoFlags}

// Label is the mark in Chinese. An escalated ticket is 已升级 — never 已上报,
// which a resident's 上报 (a report) is.
func (f TicketFlag) Label() string {
	switch f {
	case FlagHeld:
		return "待审核"
	case FlagOverdue:
		return "超期在办"
	case FlagLate:
		return "超期结案"
	case FlagEscalated:
		return "已升级"
	case FlagPool:
		return "党员可认领"
	case FlagSelfHandled:
		return "自处置"
	case FlagPhotoFlags:
		return "照片待核查"
	}
	return string(f)
}
