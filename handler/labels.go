package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// labelJSON is one value of an enumeration and its Chinese label; an
// event type also carries its GB/T 30428 stage.
type labelJSON struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Stage string `json:"stage,omitempty"`
}

// labelsJSON is every enumeration a client shows, each in its order, from
// model's labels: the console keeps no table of words of its own.
type labelsJSON struct {
	Statuses      []labelJSON `json:"statuses"`
	EventTypes    []labelJSON `json:"event_types"`
	Sources       []labelJSON `json:"sources"`
	Roles         []labelJSON `json:"roles"`
	ActivityKinds []labelJSON `json:"activity_kinds"`
	Categories    []labelJSON `json:"categories"`
	Flags         []labelJSON `json:"flags"`
	AddressKinds  []labelJSON `json:"address_kinds"`
	LayerKinds    []labelJSON `json:"layer_kinds"`
	// AuditActions are the access trail's actions (the console's 访问记录).
	AuditActions []labelJSON `json:"audit_actions"`
}

func labelsOf[T ~string](values []T, label func(T) string) []labelJSON {
	out := make([]labelJSON, len(values))
	for i, v := range values {
		out[i] = labelJSON{Key: string(v), Label: label(v)}
	}
	return out
}

// labels is GET /api/v1/labels: the Chinese word of every status, event
// type, source, role (the staff's roles too), activity kind, category,
// ticket mark, address kind, layer kind and access-trail action. Public:
// nothing in it is anyone's.
func (h *handlers) labels(c echo.Context) error {
	cats, err := h.Categories.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := labelsJSON{
		Statuses: labelsOf(model.Statuses, model.Status.Label),
		Sources:  labelsOf([]model.Source{model.SourceWeChat, model.SourcePatrol, model.SourceHotline, model.SourceOpen311}, model.Source.Label),
		Roles: labelsOf(append([]model.Role{model.RoleResident, model.RoleGridWorker, model.RolePartyMember, model.RoleStaff},
			model.StaffRoles...), model.Role.Label),
		ActivityKinds: labelsOf(model.ActivityKinds(), model.ActivityKind.Label),
		Flags:         labelsOf(model.TicketFlags, model.TicketFlag.Label),
		AddressKinds:  labelsOf(model.AddressKinds, func(k model.AddressKind) string { return string(k) }),
		LayerKinds:    labelsOf(model.LayerKinds, model.LayerKind.Label),
		AuditActions:  labelsOf(model.AuditActions, model.AuditAction.Label),
		Categories:    make([]labelJSON, len(cats)),
	}
	for _, e := range model.EventTypes {
		out.EventTypes = append(out.EventTypes, labelJSON{Key: string(e), Label: e.Label(), Stage: e.Stage()})
	}
	for i, cat := range cats {
		out.Categories[i] = labelJSON{Key: cat.Code, Label: cat.Name}
	}
	return c.JSON(http.StatusOK, out)
}
