package ticket

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
)

// HotlineInput is a case taken by phone (12345 热线) and entered by staff.
type HotlineInput struct {
	Category    string
	Description string
	Location    model.Location
	Address     string
	// Source must be hotline.
	Source      model.Source
	CallerName  string
	CallerPhone string
}

// Validate checks a hotline case. Errors: invalid_argument naming the field.
func (in *HotlineInput) Validate() error {
	if in.Source != model.SourceHotline {
		return model.Invalid("source", "人工录入的案件必须是 hotline（12345 热线），收到 %q", in.Source)
	}
	in.Category = strings.TrimSpace(in.Category)
	if in.Category == "" {
		return model.Invalid("category", "必须填写案件类别编码")
	}
	var err error
	if in.Description, err = model.TrimText("description", in.Description, MaxDescription, false, "记录来电反映的问题"); err != nil {
		return err
	}
	if err := ValidateLocation("location", in.Location); err != nil {
		return err
	}
	if in.Address, err = model.TrimText("address", in.Address, MaxAddress, true, ""); err != nil {
		return err
	}
	if in.CallerName, err = model.TrimText("caller_name", in.CallerName, 50, true, ""); err != nil {
		return err
	}
	in.CallerPhone = strings.TrimSpace(in.CallerPhone)
	if n := utf8.RuneCountInString(in.CallerPhone); n > 20 || strings.IndexFunc(in.CallerPhone, func(r rune) bool {
		return !unicode.IsDigit(r) && r != '-' && r != '+' && r != ' '
	}) >= 0 {
		return model.Invalid("caller_phone", "必须是电话号码（数字，最多 20 位），收到 %q", in.CallerPhone)
	}
	return nil
}

// TakeCall records a hotline case: reported and registered (立案) on the
// staff's own word (no content check), then taken in like any ticket
// (Workflow.Intake: routed at once). The caller's details are the staff's
// only. Errors:
// invalid_argument (field named, or an unknown category), unavailable.
func (s *Tasks) TakeCall(ctx context.Context, staff *model.User, in HotlineInput) (*model.Ticket, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	cat, err := s.workflow.Category(ctx, in.Category)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &model.Ticket{
		ID: model.NewID(now), Category: cat.Code, Description: in.Description, Location: in.Location, Point: ToWGS84(in.Location),
		Address: in.Address, Source: model.SourceHotline, CallerName: in.CallerName, CallerPhone: in.CallerPhone,
	}
	by := staffActor(staff)
	if err := t.Report(model.Act{At: now, By: by, Note: "12345 热线来电"}); err != nil {
		return nil, err
	}
	sla, err := s.workflow.SLA(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := t.Register(model.Act{At: now, By: by, Note: "热线受理，人工立案"}, sla); err != nil {
		return nil, err
	}
	return s.workflow.Intake(ctx, t, "t:"+t.ID, "")
}
