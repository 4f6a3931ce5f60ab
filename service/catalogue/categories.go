package catalogue

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// DefaultCategories is the catalogue a new deployment starts with: common
// city-management problems coded in the GB/T 30428 style (大类 two digits,
// 小类 two digits), each with its handling time limit in working hours,
// whether volunteers may take it, and its duplicate radius.
var DefaultCategories = []model.Category{
	{Code: "0101", Name: "暴露垃圾", Major: "市容环境", SLAHours: 4, VolunteerSuitable: true, DuplicateRadiusM: 50},
	{Code: "0102", Name: "乱堆物堆料", Major: "市容环境", SLAHours: 8, VolunteerSuitable: true, DuplicateRadiusM: 50},
	{Code: "0103", Name: "积存垃圾渣土", Major: "市容环境", SLAHours: 8, VolunteerSuitable: false, DuplicateRadiusM: 80},
	{Code: "0201", Name: "违规张贴小广告", Major: "宣传广告", SLAHours: 8, VolunteerSuitable: true, DuplicateRadiusM: 30},
	{Code: "0202", Name: "违规户外广告", Major: "宣传广告", SLAHours: 40, VolunteerSuitable: false, DuplicateRadiusM: 50},
	{Code: "0301", Name: "私搭乱建", Major: "施工管理", SLAHours: 40, VolunteerSuitable: false, DuplicateRadiusM: 50},
	{Code: "0302", Name: "施工扰民", Major: "施工管理", SLAHours: 8, VolunteerSuitable: false, DuplicateRadiusM: 150},
	{Code: "0501", Name: "占道经营", Major: "街面秩序", SLAHours: 4, VolunteerSuitable: false, DuplicateRadiusM: 50},
	{Code: "0502", Name: "非机动车乱停放", Major: "街面秩序", SLAHours: 4, VolunteerSuitable: true, DuplicateRadiusM: 30},
	{Code: "0503", Name: "机动车违规停放", Major: "街面秩序", SLAHours: 4, VolunteerSuitable: false, DuplicateRadiusM: 30},
	{Code: "1101", Name: "井盖缺失/破损", Major: "公用设施", SLAHours: 2, VolunteerSuitable: false, DuplicateRadiusM: 20},
	{Code: "1102", Name: "路灯不亮", Major: "公用设施", SLAHours: 24, VolunteerSuitable: false, DuplicateRadiusM: 30},
	{Code: "1201", Name: "道路破损", Major: "道路交通", SLAHours: 24, VolunteerSuitable: false, DuplicateRadiusM: 50},
	{Code: "1301", Name: "绿地损坏", Major: "园林绿化", SLAHours: 16, VolunteerSuitable: true, DuplicateRadiusM: 50},
}

// CategoryStore keeps the catalogue.
type CategoryStore interface {
	Seed(ctx context.Context, cats []model.Category) error
	List(ctx context.Context) ([]model.Category, error)
	Put(ctx context.Context, c model.Category) error
}

// Categories serves the catalogue from a snapshot refreshed every refresh
// interval, so every report does not read it from the database, and every
// instance sees a staff change within that interval.
type Categories struct {
	store   CategoryStore
	refresh time.Duration
	now     func() time.Time

	mu      sync.Mutex
	list    []model.Category
	byCode  map[string]model.Category
	fetched time.Time
}

// NewCategories returns the catalogue service.
func NewCategories(store CategoryStore, refresh time.Duration, now func() time.Time) *Categories {
	return &Categories{store: store, refresh: refresh, now: now}
}

// Seed adds the default catalogue's missing categories.
func (c *Categories) Seed(ctx context.Context) error {
	return c.store.Seed(ctx, DefaultCategories)
}

// List returns the catalogue ordered by code.
func (c *Categories) List(ctx context.Context) ([]model.Category, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(ctx); err != nil {
		return nil, err
	}
	return c.list, nil
}

// Get returns one category; an unknown code is invalid_argument on field
// "category".
func (c *Categories) Get(ctx context.Context, code string) (model.Category, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(ctx); err != nil {
		return model.Category{}, err
	}
	cat, ok := c.byCode[code]
	if !ok {
		return model.Category{}, model.Invalid("category", "%q 不是已有的问题分类；分类见 GET /api/v1/categories", code)
	}
	return cat, nil
}

// Put creates or changes a category (staff). Errors: invalid_argument.
func (c *Categories) Put(ctx context.Context, cat model.Category) (model.Category, error) {
	if err := cat.Validate(); err != nil {
		return model.Category{}, err
	}
	if err := c.store.Put(ctx, cat); err != nil {
		return model.Category{}, fmt.Errorf("put category: %w", err)
	}
	c.mu.Lock()
	c.fetched = time.Time{} // reload on next read
	c.mu.Unlock()
	return cat, nil
}

// load refreshes the snapshot when it is stale; the caller holds mu.
func (c *Categories) load(ctx context.Context) error {
	if c.byCode != nil && c.now().Sub(c.fetched) < c.refresh {
		return nil
	}
	list, err := c.store.List(ctx)
	if err != nil {
		if c.byCode != nil {
			return nil // serve the last snapshot while the store is down
		}
		return fmt.Errorf("load categories: %w", err)
	}
	c.list = list
	c.byCode = make(map[string]model.Category, len(list))
	for _, cat := range list {
		c.byCode[cat.Code] = cat
	}
	c.fetched = c.now()
	return nil
}
