package seed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"slices"
	"sync"

	"github.com/paulmach/orb"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// Store is the part of a store (store.Engine) a history is written with:
// the tickets' bulk path, and what the city is read from. Each field is
// the engine's resource of the same name; StoreOf fills it from an engine.
type Store struct {
	Tickets interface {
		// Load stores tickets whose history is written, counted by the
		// statistics as of their versions, giving each a case number.
		Load(ctx context.Context, ts []*model.Ticket) error
		ListStaff(ctx context.Context, q model.TicketQuery, cursor string, limit int) (model.TicketPage, error)
	}
	Users interface {
		UpsertWeChat(ctx context.Context, openID string) (*model.User, error)
		OnDuty(ctx context.Context, ids []string) ([]string, error)
		StaffCredentials(ctx context.Context, username string) (*model.User, []byte, error)
	}
	People interface {
		ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.Worker, string, int64, error)
		ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.PartyMember, string, int64, error)
	}
	Grids interface {
		All(ctx context.Context) ([]geo.Grid, error)
	}
	Categories interface {
		List(ctx context.Context) ([]model.Category, error)
	}
	Photos interface {
		Create(ctx context.Context, p model.Photo, full, thumb model.PhotoFile) (*model.Photo, error)
		Claim(ctx context.Context, ownerID string, ids []string, ticketID string) (int, error)
	}
	Submitters interface {
		Save(ctx context.Context, p *model.Open311Submitter) error
	}
	Stats interface {
		// Settle returns once everything written so far is counted.
		Settle(ctx context.Context) error
	}
}

// Person is a grid worker or party member a ticket can go to.
type Person struct {
	UserID string
	// Name is the full name; timelines show it masked.
	Name   string
	Role   model.Role
	OnDuty bool
}

// actor is p acting in their role, as timelines show them.
func (p Person) actor() model.Actor {
	return model.Actor{ID: p.UserID, Role: p.Role, Name: model.MaskName(p.Name)}
}

// Grid is one grid of the city: where its reports lie.
type Grid struct {
	Code, Name, Community string
	Shape                 orb.MultiPolygon
	bound                 orb.Bound
	// streets are the street names its addresses use.
	streets []string
}

// Photo is a stored photo a history's tickets show, and who uploaded it.
type Photo struct {
	ID, Owner string
}

// City is what a history happens in: the grids, who works in them, the
// residents who report, the catalogue, the photos the tickets show and the
// staff account that takes the staff's steps.
type City struct {
	Grids []Grid
	// Workers are the bound, active grid workers of each grid (by code);
	// Members the bound, active party members of each community.
	Workers map[string][]Person
	Members map[string][]Person
	// Residents are the user ids of the residents who report.
	Residents  []string
	Categories []model.Category
	Photos     []Photo
	// Staff is who takes the staff's steps (立案 of a hotline call, manual
	// dispatch, 核查, 挂账, 督办 …).
	Staff model.Actor
	// District prefixes the addresses (南京市鼓楼区), or is empty.
	District string

	index *geo.Index
	// bound covers every grid, for reports outside all of them.
	bound orb.Bound
}

// pageSize is how many profiles one directory read takes.
const pageSize = 200

// ReadCity reads the city a store holds: its grids, its bound and active
// workers and party members (with whether they are on duty) and its
// catalogue. Residents and photos are added by AddResidents and
// AddPhotos; the staff's steps are taken without an account until Staff
// is set (see StaffActor). Errors: those of the store.
func ReadCity(ctx context.Context, st Store) (*City, error) {
	c := &City{Workers: map[string][]Person{}, Members: map[string][]Person{}, Staff: model.Actor{Role: model.RoleStaff}}
	grids, err := st.Grids.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read grids: %w", err)
	}
	c.setGrids(grids)
	if c.Categories, err = st.Categories.List(ctx); err != nil {
		return nil, fmt.Errorf("read categories: %w", err)
	}
	if len(c.Categories) == 0 {
		return nil, errors.New("read categories: the catalogue is empty")
	}
	active := true
	var users []string
	var workers []*model.Worker
	for cursor := ""; ; {
		page, next, _, err := st.People.ListWorkers(ctx, model.PeopleFilter{Active: &active}, cursor, pageSize)
		if err != nil {
			return nil, fmt.Errorf("read workers: %w", err)
		}
		for _, w := range page {
			if w.UserID != "" && w.Active {
				workers = append(workers, w)
				users = append(users, w.UserID)
			}
		}
		if cursor = next; cursor == "" || len(page) == 0 {
			break
		}
	}
	var members []*model.PartyMember
	for cursor := ""; ; {
		page, next, _, err := st.People.ListPartyMembers(ctx, model.PeopleFilter{Active: &active}, cursor, pageSize)
		if err != nil {
			return nil, fmt.Errorf("read party members: %w", err)
		}
		for _, m := range page {
			if m.UserID != "" && m.Active {
				members = append(members, m)
				users = append(users, m.UserID)
			}
		}
		if cursor = next; cursor == "" || len(page) == 0 {
			break
		}
	}
	onDuty := map[string]bool{}
	for chunk := range slices.Chunk(users, 500) {
		ids, err := st.Users.OnDuty(ctx, chunk)
		if err != nil {
			return nil, fmt.Errorf("read duty: %w", err)
		}
		for _, id := range ids {
			onDuty[id] = true
		}
	}
	for _, w := range workers {
		p := Person{UserID: w.UserID, Name: w.Name, Role: model.RoleGridWorker, OnDuty: onDuty[w.UserID]}
		for _, g := range w.GridCodes {
			c.Workers[g] = append(c.Workers[g], p)
		}
	}
	for _, m := range members {
		p := Person{UserID: m.UserID, Name: m.Name, Role: model.RolePartyMember, OnDuty: onDuty[m.UserID]}
		for _, cm := range m.Communities {
			c.Members[cm] = append(c.Members[cm], p)
		}
	}
	return c, nil
}

// StaffActor is the staff account username as the actor of the staff's
// steps, or a staff actor without an account when there is none. Errors:
// those of the store.
func StaffActor(ctx context.Context, users interface {
	StaffCredentials(ctx context.Context, username string) (*model.User, []byte, error)
}, username string) (model.Actor, error) {
	a := model.Actor{Role: model.RoleStaff}
	if username == "" {
		return a, nil
	}
	u, _, err := users.StaffCredentials(ctx, username)
	switch {
	case err == nil:
		a.ID = u.ID
	case !errors.Is(err, model.ErrNotFound):
		return a, fmt.Errorf("read staff %s: %w", username, err)
	}
	return a, nil
}

// setGrids indexes the grids and gives each a few streets.
func (c *City) setGrids(grids []geo.Grid) {
	c.Grids = c.Grids[:0]
	for i, g := range grids {
		cg := Grid{Code: g.Code, Name: g.Name, Community: g.Community, Shape: g.Shape, bound: g.Shape.Bound()}
		for k := range 3 {
			cg.streets = append(cg.streets, streetNames[(i*3+k*7)%len(streetNames)])
		}
		if i == 0 {
			c.bound = cg.bound
		} else {
			c.bound = c.bound.Union(cg.bound)
		}
		c.Grids = append(c.Grids, cg)
	}
	c.index = geo.NewIndex(grids)
}

// AddResidents makes n residents — WeChat users, through the store's
// UpsertWeChat, so that running it again finds the same ones — whose
// openids are openID of "seed-resident-<i>" (a simulated WeChat's, so that
// it knows them), or that code itself when openID is nil. Errors: those of
// the store.
func (c *City) AddResidents(ctx context.Context, users interface {
	UpsertWeChat(ctx context.Context, openID string) (*model.User, error)
}, n int, openID func(code string) string) error {
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range errs {
		wg.Go(func() {
			for i := w; i < n; i += len(errs) {
				code := fmt.Sprintf("seed-resident-%d", i)
				if openID != nil {
					code = openID(code)
				}
				u, err := users.UpsertWeChat(ctx, code)
				if err != nil {
					errs[w] = fmt.Errorf("resident %d: %w", i, err)
					return
				}
				ids[i] = u.ID
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	c.Residents = append(c.Residents, ids...)
	return nil
}

// AddPhotos adds n photos made by upload (called with 0..n-1).
func (c *City) AddPhotos(ctx context.Context, n int, upload func(ctx context.Context, i int) (Photo, error)) error {
	for i := range n {
		p, err := upload(ctx, i)
		if err != nil {
			return fmt.Errorf("photo %d: %w", i, err)
		}
		c.Photos = append(c.Photos, p)
	}
	return nil
}

func readerOf(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// JPEG is the i-th of the small photos a seed shows: a 96×72 gradient.
func JPEG(i int) []byte {
	return encodeJPEG(i, 96, 72)
}

func encodeJPEG(i, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	base := color.RGBA{uint8(60 + i*37%160), uint8(80 + i*53%140), uint8(70 + i*29%150), 255}
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{base.R + uint8(x*12/w), base.G + uint8(y*9/h), base.B, 255})
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}) // writing to memory cannot fail
	return buf.Bytes()
}

// StorePhoto returns an upload for AddPhotos that stores JPEG(i) and a
// thumbnail through the photo store, as owner's.
func StorePhoto(photos interface {
	Create(ctx context.Context, p model.Photo, full, thumb model.PhotoFile) (*model.Photo, error)
}, owner string) func(ctx context.Context, i int) (Photo, error) {
	return func(ctx context.Context, i int) (Photo, error) {
		full, thumb := JPEG(i), encodeJPEG(i, 48, 36)
		// No EXIF time or place: the history decides which resolutions are
		// flagged for a 核查, not the photos.
		p, err := photos.Create(ctx, model.Photo{OwnerID: owner, ContentType: "image/jpeg", Width: 96, Height: 72},
			model.PhotoFile{Data: full, ContentType: "image/jpeg", SHA256: fmt.Sprintf("%x", sha256.Sum256(full))},
			model.PhotoFile{Data: thumb, ContentType: "image/jpeg", SHA256: fmt.Sprintf("%x", sha256.Sum256(thumb))})
		if err != nil {
			return Photo{}, err
		}
		return Photo{ID: p.ID, Owner: owner}, nil
	}
}
