package people

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/limit"
)

// StaffInput is a new staff account as an admin gives it.
type StaffInput struct {
	Username string
	Name     string
	Roles    []model.Role
	Password string
}

// StaffPatch changes a staff account; nil fields stay as they are.
type StaffPatch struct {
	Name   *string
	Roles  *[]model.Role
	Active *bool
}

// CreateStaff makes a staff account (admins only, by the route). Errors:
// invalid_argument (username, name, roles, password — the strength rules of
// model.CheckPassword), conflict (the username is taken), unavailable.
func (a *Auth) CreateStaff(ctx context.Context, in StaffInput) (*model.User, error) {
	in.Username = strings.TrimSpace(in.Username)
	if !model.ValidUsername(in.Username) {
		return nil, model.Invalid("username", "用户名须为 3 到 32 个字母、数字或 . _ -，以字母开头；收到 %q", in.Username)
	}
	name, err := model.StaffName("name", in.Name)
	if err != nil {
		return nil, err
	}
	roles, err := model.NormalizeStaffRoles("roles", in.Roles)
	if err != nil {
		return nil, err
	}
	if err := model.CheckPassword("password", in.Password, in.Username); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), a.bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u, err := a.staff.Create(ctx, &model.User{Username: in.Username, Name: name, Roles: roles}, hash)
	if err != nil {
		return nil, err
	}
	a.record(ctx, model.ActionStaffChange, u.Username, fmt.Sprintf("新建工作人员账号 %s（%s），角色：%s", u.Username, u.Name, roleNames(u.Roles)))
	return u, nil
}

// ListStaff returns every staff account, by username. Errors: unavailable.
func (a *Auth) ListStaff(ctx context.Context) ([]*model.User, error) {
	return a.staff.List(ctx)
}

// UpdateStaff changes a staff account's name, roles or state. Disabling it
// ends its sessions on every instance (within UserCacheTTL). The last
// enabled admin can be neither disabled nor lose admin: the bureau would
// have no one to manage accounts. Errors: invalid_argument (name, roles),
// not_found, conflict (the last admin), unavailable.
func (a *Auth) UpdateStaff(ctx context.Context, id string, p StaffPatch) (*model.User, error) {
	all, err := a.staff.List(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(u *model.User) bool { return u.ID == id })
	if i < 0 {
		return nil, model.Errorf(model.CodeNotFound, "没有工作人员账号 %s", id)
	}
	cur := all[i]
	var name *string
	if p.Name != nil {
		n, err := model.StaffName("name", *p.Name)
		if err != nil {
			return nil, err
		}
		name = &n
	}
	var roles []model.Role
	if p.Roles != nil {
		if roles, err = model.NormalizeStaffRoles("roles", *p.Roles); err != nil {
			return nil, err
		}
	}
	var disabled *bool
	if p.Active != nil {
		d := !*p.Active
		disabled = &d
	}
	stillAdmin := (roles == nil && cur.Has(model.RoleAdmin) || slices.Contains(roles, model.RoleAdmin)) &&
		!(disabled != nil && *disabled || disabled == nil && cur.Disabled)
	if cur.Has(model.RoleAdmin) && !cur.Disabled && !stillAdmin {
		others := slices.ContainsFunc(all, func(u *model.User) bool { return u.ID != id && u.Has(model.RoleAdmin) && !u.Disabled })
		if !others {
			return nil, model.Errorf(model.CodeConflict, "%s 是唯一启用的管理员账号，不能停用或取消其管理员角色；请先给另一个账号管理员角色", cur.Username)
		}
	}
	u, err := a.staff.Update(ctx, id, name, roles, disabled)
	if err != nil {
		return nil, err
	}
	a.cache.forget(id)
	a.record(ctx, model.ActionStaffChange, u.Username, staffChanges(cur, u))
	return u, nil
}

// ResetStaffPassword sets another account's password (admins only, by the
// route) and ends its sessions. Errors: invalid_argument (password),
// not_found, unavailable.
func (a *Auth) ResetStaffPassword(ctx context.Context, id, password string) (*model.User, error) {
	u, err := a.users.GetStaff(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有工作人员账号 %s", id)
	}
	if err != nil {
		return nil, err
	}
	if err := model.CheckPassword("password", password, u.Username); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), a.bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	if u, err = a.staff.SetPassword(ctx, id, hash, nil); err != nil {
		return nil, err
	}
	a.cache.forget(id)
	a.record(ctx, model.ActionStaffChange, u.Username, "管理员重置了 "+u.Username+" 的密码（其登录已全部失效）")
	return u, nil
}

// ChangeOwnPassword sets a staff member's own password, old one given, and
// returns a new session: every other session of the account ends. Errors:
// permission_denied (not a staff account), invalid_argument (old: wrong;
// new: too weak or the same), rate_limited, unavailable.
func (a *Auth) ChangeOwnPassword(ctx context.Context, u *model.User, old, newPassword string) (*model.Session, error) {
	if u.Kind != model.KindStaff {
		return nil, model.Errorf(model.CodePermissionDenied, "只有工作人员账号有密码；微信用户无需设置密码")
	}
	if err := limit.Check(ctx, a.limiter, "password:"+u.ID, 10, time.Minute, "修改密码的尝试过多，请稍后再试"); err != nil {
		return nil, err
	}
	_, hash, err := a.users.StaffCredentials(ctx, u.Username)
	if err != nil {
		return nil, err
	}
	if old == "" || len(old) > model.MaxPasswordBytes || bcrypt.CompareHashAndPassword(hash, []byte(old)) != nil {
		return nil, model.Invalid("old", "原密码不正确")
	}
	if old == newPassword {
		return nil, model.Invalid("new", "新密码不能与原密码相同")
	}
	if err := model.CheckPassword("new", newPassword, u.Username); err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(newPassword), a.bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	changed, err := a.staff.SetPassword(ctx, u.ID, h, nil)
	if err != nil {
		return nil, err
	}
	a.cache.forget(u.ID)
	a.record(ctx, model.ActionStaffChange, u.Username, "修改了自己的密码（其他登录已全部失效）")
	return a.session(changed)
}

func (a *Auth) record(ctx context.Context, action model.AuditAction, target, detail string) {
	if a.trail != nil {
		a.trail.Record(ctx, action, target, detail)
	}
}

// roleNames lists the staff roles in Chinese.
func roleNames(roles []model.Role) string {
	var out []string
	for _, r := range roles {
		if r != model.RoleStaff {
			out = append(out, r.Label())
		}
	}
	return strings.Join(out, "、")
}

// staffChanges says in Chinese what changed from before to after.
func staffChanges(before, after *model.User) string {
	var out []string
	if before.Name != after.Name {
		out = append(out, fmt.Sprintf("姓名 %s → %s", before.Name, after.Name))
	}
	if !slices.Equal(before.Roles, after.Roles) {
		out = append(out, fmt.Sprintf("角色 %s → %s", roleNames(before.Roles), roleNames(after.Roles)))
	}
	if before.Disabled != after.Disabled {
		if after.Disabled {
			out = append(out, "停用（其登录已全部失效）")
		} else {
			out = append(out, "启用")
		}
	}
	if len(out) == 0 {
		return "未改动"
	}
	return strings.Join(out, "；")
}
