package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
)

// ProfileStore keeps the staff-created profiles.
type ProfileStore interface {
	CreateWorker(ctx context.Context, w model.Worker) (*model.Worker, error)
	CreateBranch(ctx context.Context, b model.Branch) (*model.Branch, error)
	GetBranch(ctx context.Context, id string) (*model.Branch, error)
	CreatePartyMember(ctx context.Context, p model.PartyMember) (*model.PartyMember, error)
}

// People is the staff's management of grid workers, party branches and party
// members, each of whom joins through a single-use invite code.
type People struct {
	profiles  ProfileStore
	invites   InviteStore
	inviteTTL time.Duration
	now       func() time.Time
}

// NewPeople returns the people service.
func NewPeople(profiles ProfileStore, invites InviteStore, inviteTTL time.Duration, now func() time.Time) *People {
	return &People{profiles: profiles, invites: invites, inviteTTL: inviteTTL, now: now}
}

// Invited is a new profile and the invite code that binds it; the code is
// shown once and only its hash is kept.
type Invited struct {
	ID         string
	InviteCode string
	ExpiresAt  time.Time
}

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// CreateWorker adds a grid worker profile. Errors: invalid_argument.
func (p *People) CreateWorker(ctx context.Context, w model.Worker) (*Invited, error) {
	if err := checkName(w.Name); err != nil {
		return nil, err
	}
	if err := checkPhone(w.Phone); err != nil {
		return nil, err
	}
	codes, err := checkList("grid_codes", w.GridCodes, 1, 50)
	if err != nil {
		return nil, err
	}
	w.GridCodes = codes
	created, err := p.profiles.CreateWorker(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("create worker: %w", err)
	}
	return p.invite(ctx, model.RoleGridWorker, created.ID)
}

// CreateBranch adds a party branch (党支部). Errors: invalid_argument.
func (p *People) CreateBranch(ctx context.Context, name string) (*model.Branch, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	b, err := p.profiles.CreateBranch(ctx, model.Branch{Name: strings.TrimSpace(name)})
	if err != nil {
		return nil, fmt.Errorf("create branch: %w", err)
	}
	return b, nil
}

// CreatePartyMember adds a party member profile. Errors: invalid_argument
// (including an unknown branch_id).
func (p *People) CreatePartyMember(ctx context.Context, m model.PartyMember) (*Invited, error) {
	if err := checkName(m.Name); err != nil {
		return nil, err
	}
	if err := checkPhone(m.Phone); err != nil {
		return nil, err
	}
	if m.BranchID == "" {
		return nil, model.Invalid("branch_id", "不能为空")
	}
	if _, err := p.profiles.GetBranch(ctx, m.BranchID); err != nil {
		if model.ErrorCode(err) == model.CodeNotFound {
			return nil, model.Invalid("branch_id", "%q 不是已有的党支部", m.BranchID)
		}
		return nil, fmt.Errorf("create party member: %w", err)
	}
	communities, err := checkList("communities", m.Communities, 1, 20)
	if err != nil {
		return nil, err
	}
	m.Communities = communities
	created, err := p.profiles.CreatePartyMember(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("create party member: %w", err)
	}
	return p.invite(ctx, model.RolePartyMember, created.ID)
}

func (p *People) invite(ctx context.Context, role model.Role, profileID string) (*Invited, error) {
	code := newInviteCode()
	exp := p.now().Add(p.inviteTTL).UTC().Truncate(time.Second)
	if err := p.invites.Create(ctx, digest(code), model.Invite{Role: role, ProfileID: profileID, ExpiresAt: exp}); err != nil {
		return nil, fmt.Errorf("create invite: %w", err)
	}
	return &Invited{ID: profileID, InviteCode: code, ExpiresAt: exp}, nil
}

// inviteAlphabet is Crockford's base32: no I, L, O or U to misread.
const inviteAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newInviteCode returns 12 characters (60 bits) of randomness, plenty for a
// code that expires and whose guesses are rate limited.
func newInviteCode() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = inviteAlphabet[int(b[i])%len(inviteAlphabet)]
	}
	return string(b)
}

// NormalizeInviteCode forgives what people do when they type a code:
// lower case, spaces and dashes, and the letters Crockford maps to digits.
func NormalizeInviteCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	r := strings.NewReplacer(" ", "", "-", "", "I", "1", "L", "1", "O", "0")
	return r.Replace(s)
}

func checkName(name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return model.Invalid("name", "不能为空")
	}
	if utf8.RuneCountInString(name) > 50 {
		return model.Invalid("name", "最多 50 个字")
	}
	return nil
}

func checkPhone(phone string) error {
	if phone == "" {
		return model.Invalid("phone", "不能为空")
	}
	if !mobile.MatchString(phone) {
		return model.Invalid("phone", "必须是 11 位中国大陆手机号，不能是 %q", phone)
	}
	return nil
}

func checkList(field string, items []string, minN, maxN int) ([]string, error) {
	if len(items) < minN {
		return nil, model.Invalid(field, "至少要有 %d 项", minN)
	}
	if len(items) > maxN {
		return nil, model.Invalid(field, "最多 %d 项", maxN)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(items))
	for i, s := range items {
		s = strings.TrimSpace(s)
		if s == "" || utf8.RuneCountInString(s) > 64 {
			return nil, model.Invalid(fmt.Sprintf("%s[%d]", field, i), "必须是 1 到 64 个字")
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}
