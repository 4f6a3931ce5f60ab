package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/citizen-city/chengguantong/handler"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/audit"
	"github.com/citizen-city/chengguantong/service/open311"
	"github.com/citizen-city/chengguantong/service/people"
)

// The services the HTTP edge calls, each wrapped so that a change it makes
// to people, keys or settings is recorded in the access trail (who, from
// where: the request's context, see audit.WithSource) once it is done.
// The services themselves stay unaware of the trail.

// auditedPeople records every change to the people directory.
type auditedPeople struct {
	handler.PeopleService
	trail *audit.Trail
}

func (p auditedPeople) CreateWorker(ctx context.Context, w model.Worker) (*people.Invited, error) {
	inv, err := p.PeopleService.CreateWorker(ctx, w)
	if err == nil {
		p.trail.Record(ctx, model.ActionPeopleChange, inv.ID, fmt.Sprintf("新增网格员 %s（网格 %s），生成邀请码", w.Name, strings.Join(w.GridCodes, "、")))
	}
	return inv, err
}

func (p auditedPeople) UpdateWorker(ctx context.Context, id string, patch people.WorkerPatch) (*people.WorkerRow, error) {
	row, err := p.PeopleService.UpdateWorker(ctx, id, patch)
	if err == nil {
		p.trail.Record(ctx, model.ActionPeopleChange, id, "修改网格员 "+row.Name+"："+describePatch(patch.Name, patch.Phone, patch.GridCodes, nil, patch.Active))
	}
	return row, err
}

func (p auditedPeople) InviteWorker(ctx context.Context, id string) (*people.Invited, error) {
	inv, err := p.PeopleService.InviteWorker(ctx, id)
	if err == nil {
		p.trail.Record(ctx, model.ActionPeopleChange, id, "为网格员重新生成邀请码（旧码作废）")
	}
	return inv, err
}

func (p auditedPeople) CreatePartyMember(ctx context.Context, m model.PartyMember) (*people.Invited, error) {
	inv, err := p.PeopleService.CreatePartyMember(ctx, m)
	if err == nil {
		p.trail.Record(ctx, model.ActionPeopleChange, inv.ID, fmt.Sprintf("新增在职党员 %s（社区 %s），生成邀请码", m.Name, strings.Join(m.Communities, "、")))
	}
	return inv, err
}

func (p auditedPeople) UpdatePartyMember(ctx context.Context, id string, patch people.MemberPatch) (*people.MemberRow, error) {
	row, err := p.PeopleService.UpdatePartyMember(ctx, id, patch)
	if err == nil {
		p.trail.Record(ctx, model.ActionPeopleChange, id, "修改在职党员 "+row.Name+"："+describePatch(patch.Name, patch.Phone, patch.Communities, patch.BranchID, patch.Active))
	}
	return row, err
}

func (p auditedPeople) InvitePartyMember(ctx context.Context, id string) (*people.Invited, error) {
	inv, err := p.PeopleService.InvitePartyMember(ctx, id)
	if err == nil {
		p.trail.Record(ctx, model.ActionPeopleChange, id, "为在职党员重新生成邀请码（旧码作废）")
	}
	return inv, err
}

func (p auditedPeople) CreateBranch(ctx context.Context, name string) (*model.Branch, error) {
	b, err := p.PeopleService.CreateBranch(ctx, name)
	if err == nil {
		p.trail.Record(ctx, model.ActionPeopleChange, b.ID, "新增党支部 "+b.Name)
	}
	return b, err
}

func (p auditedPeople) RenameBranch(ctx context.Context, id, name string) (*people.BranchRow, error) {
	b, err := p.PeopleService.RenameBranch(ctx, id, name)
	if err == nil {
		p.trail.Record(ctx, model.ActionPeopleChange, id, "党支部改名为 "+b.Name)
	}
	return b, err
}

// describePatch lists which fields a change of a person set (the phone's
// new value masked: the trail is read by auditors, not by everyone).
func describePatch(name, phone *string, places *[]string, branch *string, active *bool) string {
	var out []string
	if name != nil {
		out = append(out, "姓名 → "+*name)
	}
	if phone != nil {
		out = append(out, "电话 → "+model.MaskPhone(*phone))
	}
	if places != nil {
		out = append(out, "服务范围 → "+strings.Join(*places, "、"))
	}
	if branch != nil {
		out = append(out, "党支部 → "+*branch)
	}
	if active != nil {
		if *active {
			out = append(out, "启用")
		} else {
			out = append(out, "停用")
		}
	}
	if len(out) == 0 {
		return "未改动"
	}
	return strings.Join(out, "；")
}

// auditedCategories records every change of a category (a setting).
type auditedCategories struct {
	handler.CategoryService
	trail *audit.Trail
}

func (a auditedCategories) Put(ctx context.Context, c model.Category) (model.Category, error) {
	out, err := a.CategoryService.Put(ctx, c)
	if err == nil {
		a.trail.Record(ctx, model.ActionSettingsChange, "category:"+out.Code,
			fmt.Sprintf("修改类别 %s %s：处置时限 %d 小时，适合志愿者 %v", out.Code, out.Name, out.SLAHours, out.VolunteerSuitable))
	}
	return out, err
}

// auditedGrids records every upload of grids (a setting).
type auditedGrids struct {
	handler.GridService
	trail *audit.Trail
}

func (a auditedGrids) Upload(ctx context.Context, data []byte) ([]model.Grid, error) {
	out, err := a.GridService.Upload(ctx, data)
	if err == nil {
		codes := make([]string, 0, len(out))
		for _, g := range out {
			codes = append(codes, g.Code)
		}
		a.trail.Record(ctx, model.ActionSettingsChange, "grids", fmt.Sprintf("上传网格 %d 个：%s", len(out), strings.Join(codes, "、")))
	}
	return out, err
}

// auditedOpen311 records every key issued and revoked.
type auditedOpen311 struct {
	handler.Open311Service
	trail *audit.Trail
}

func (a auditedOpen311) IssueKey(ctx context.Context, staff *model.User, name string) (*open311.IssuedKey, error) {
	k, err := a.Open311Service.IssueKey(ctx, staff, name)
	if err == nil {
		a.trail.Record(ctx, model.ActionKeyIssue, k.Key.ID, "签发 Open311 密钥："+name)
	}
	return k, err
}

func (a auditedOpen311) RevokeKey(ctx context.Context, id string) error {
	err := a.Open311Service.RevokeKey(ctx, id)
	if err == nil {
		a.trail.Record(ctx, model.ActionKeyRevoke, id, "吊销 Open311 密钥 "+id)
	}
	return err
}
