package model

// Chinese names of statuses and steps, for messages residents and clerks
// read (the API's fields keep the English codes). A status or step without
// a name here is shown by its code.

var statusLabels = map[Status]string{
	"submitted": "审核中", "rejected": "已驳回", "pending": "待派遣", "dispatched": "已派遣",
	"in_progress": "处置中", "resolved": "已处置", "closed": "已结案", "merged": "已合并", "deferred": "已挂账",
}

var eventLabels = map[EventType]string{
	"reported": "上报", "screened": "审核通过", "held": "挂起待审", "registered": "立案", "rejected": "驳回",
	"merged": "合并", "joined": "加入", "queued": "等待派遣", "dispatched": "派遣", "accepted": "接单",
	"claimed": "认领", "returned": "退回", "reassigned": "改派", "escalated": "升级", "resolved": "处置",
	"reopened": "返工", "closed": "结案", "deferred": "挂账", "resumed": "恢复", "urged": "督办",
	"verified": "核查", "extension_requested": "申请延期", "extension_decided": "审批延期",
}

// StatusLabel is the Chinese name of s (已派遣 for dispatched), or s itself.
func StatusLabel(s Status) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// EventLabel is the Chinese name of the step et (派遣 for dispatched), or
// et itself.
func EventLabel(et EventType) string {
	if l, ok := eventLabels[et]; ok {
		return l
	}
	return string(et)
}
