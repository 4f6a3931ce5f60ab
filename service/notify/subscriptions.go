package notify

import (
	"context"
	"fmt"
	"slices"

	"github.com/citizen-city/chengguantong/model"
)

// Templates are the subscribe-message templates the product sends, by use.
type Templates struct {
	Assigned string // to a worker: a ticket was assigned to you
	Accepted string // to the resident: your report was accepted
	Resolved string // to the resident: your report was resolved
}

// IDs lists the configured template ids.
func (t Templates) IDs() []string { return []string{t.Assigned, t.Accepted, t.Resolved} }

// SubscriptionStore keeps allowances.
type SubscriptionStore interface {
	Grant(ctx context.Context, userID string, templateIDs []string) error
}

// Subscriptions records what wx.requestSubscribeMessage granted.
type Subscriptions struct {
	store     SubscriptionStore
	templates Templates
}

// NewSubscriptions returns the subscription service.
func NewSubscriptions(store SubscriptionStore, templates Templates) *Subscriptions {
	return &Subscriptions{store: store, templates: templates}
}

// Record adds one allowance per accepted template. Errors: invalid_argument
// for an empty list or a template this product does not send.
func (s *Subscriptions) Record(ctx context.Context, u *model.User, accepted []string) error {
	if len(accepted) == 0 {
		return model.Invalid("accepted", "不能为空：请列出用户同意的模板 id")
	}
	if len(accepted) > 10 {
		return model.Invalid("accepted", "有 %d 个模板 id，最多 10 个", len(accepted))
	}
	known := s.templates.IDs()
	for i, id := range accepted {
		if !slices.Contains(known, id) {
			return model.Invalid(fmt.Sprintf("accepted[%d]", i), "%q 不是本小程序使用的订阅消息模板", id)
		}
	}
	if u.Kind != model.KindWeChat {
		return model.Errorf(model.CodePermissionDenied, "只有微信用户能接收订阅消息")
	}
	return s.store.Grant(ctx, u.ID, accepted)
}
