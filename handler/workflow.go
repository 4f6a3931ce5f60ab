package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
)

// WorkflowService is the rest of the GB/T 30428 workflow: 延期, 挂账, 督办,
// 核查 and the hotline channel.
type WorkflowService interface {
	RequestExtension(ctx context.Context, u *model.User, id string, hours int, reason string) (*model.Ticket, error)
	DecideExtension(ctx context.Context, staff *model.User, id string, approve bool, note string) (*model.Ticket, error)
	Defer(ctx context.Context, staff *model.User, id, reason string) (*model.Ticket, error)
	Resume(ctx context.Context, staff *model.User, id string) (*model.Ticket, error)
	Urge(ctx context.Context, staff *model.User, id, note string) (*model.Ticket, error)
	Verify(ctx context.Context, staff *model.User, id string, passed *bool, note string) (*model.Ticket, error)
	TakeCall(ctx context.Context, staff *model.User, in service.HotlineInput) (*model.Ticket, error)
}

// WorkflowHandlers are the routes of WorkflowService.
type WorkflowHandlers struct {
	Svc WorkflowService
	// Show renders a ticket as staff see it; Task as its assignee does.
	Show func(echo.Context, *model.Ticket) any
	Task func(*model.Ticket) any
}

// mountWorkflow registers the workflow's routes on the task and admin
// groups.
func mountWorkflow(tasks, admin *echo.Group, h *WorkflowHandlers) {
	if h.Svc == nil {
		h.Svc = noWorkflow{}
	}
	tasks.POST("/:id/extension", h.requestExtension)
	admin.POST("/tickets", h.takeCall)
	admin.POST("/tickets/:id/extension", h.decideExtension)
	admin.POST("/tickets/:id/defer", h.deferTicket)
	admin.POST("/tickets/:id/resume", h.resume)
	admin.POST("/tickets/:id/urge", h.urge)
	admin.POST("/tickets/:id/verify", h.verify)
}

// extensionJSON is a ticket's latest 延期 request.
type extensionJSON struct {
	Status      string     `json:"status"`
	Hours       int        `json:"hours"`
	Reason      string     `json:"reason"`
	RequestedAt time.Time  `json:"requested_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Note        string     `json:"note,omitempty"`
}

func toExtension(x *model.Extension) *extensionJSON {
	if x == nil {
		return nil
	}
	return &extensionJSON{Status: string(x.Status), Hours: x.Hours, Reason: x.Reason, RequestedAt: x.RequestedAt.UTC(),
		DecidedAt: timePtr(x.DecidedAt), Note: x.Note}
}

type extensionRequest struct {
	Hours  *int   `json:"hours"`
	Reason string `json:"reason"`
}

func (h *WorkflowHandlers) requestExtension(c echo.Context) error {
	var req extensionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Hours == nil {
		return model.Invalid("hours", "必须填写延期时长（1 到 %d 小时）", model.MaxExtensionHours)
	}
	t, err := h.Svc.RequestExtension(c.Request().Context(), currentUser(c), c.Param("id"), *req.Hours, req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.Task(t))
}

type decisionRequest struct {
	Approve *bool  `json:"approve"`
	Note    string `json:"note"`
}

func (h *WorkflowHandlers) decideExtension(c echo.Context) error {
	var req decisionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Approve == nil {
		return model.Invalid("approve", "必须填写：true（批准延期）或 false（驳回）")
	}
	t, err := h.Svc.DecideExtension(c.Request().Context(), currentUser(c), c.Param("id"), *req.Approve, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.Show(c, t))
}

func (h *WorkflowHandlers) deferTicket(c echo.Context) error {
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Svc.Defer(c.Request().Context(), currentUser(c), c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.Show(c, t))
}

func (h *WorkflowHandlers) resume(c echo.Context) error {
	t, err := h.Svc.Resume(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.Show(c, t))
}

type noteRequest struct {
	Note string `json:"note"`
}

func (h *WorkflowHandlers) urge(c echo.Context) error {
	var req noteRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Svc.Urge(c.Request().Context(), currentUser(c), c.Param("id"), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.Show(c, t))
}

type verifyRequest struct {
	Passed *bool  `json:"passed"`
	Note   string `json:"note"`
}

func (h *WorkflowHandlers) verify(c echo.Context) error {
	var req verifyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Svc.Verify(c.Request().Context(), currentUser(c), c.Param("id"), req.Passed, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.Show(c, t))
}

type hotlineRequest struct {
	Category    string        `json:"category"`
	Description string        `json:"description"`
	Location    *locationJSON `json:"location"`
	Address     string        `json:"address"`
	Source      string        `json:"source"`
	CallerName  string        `json:"caller_name"`
	CallerPhone string        `json:"caller_phone"`
}

func (h *WorkflowHandlers) takeCall(c echo.Context) error {
	var req hotlineRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	loc, err := req.Location.model("location")
	if err != nil {
		return err
	}
	t, err := h.Svc.TakeCall(c.Request().Context(), currentUser(c), service.HotlineInput{
		Category: req.Category, Description: req.Description, Location: loc, Address: req.Address,
		Source: model.Source(req.Source), CallerName: req.CallerName, CallerPhone: req.CallerPhone,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, h.Show(c, t))
}

// callerJSON is a hotline caller, shown to staff only.
type callerJSON struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
}

func toCaller(t *model.Ticket) *callerJSON {
	if t.CallerName == "" && t.CallerPhone == "" {
		return nil
	}
	return &callerJSON{Name: t.CallerName, Phone: t.CallerPhone}
}

// noWorkflow answers 503 where no workflow service is wired.
type noWorkflow struct{}

var errNoWorkflow = model.Errorf(model.CodeUnavailable, "工单流程服务未启用")

func (noWorkflow) RequestExtension(context.Context, *model.User, string, int, string) (*model.Ticket, error) {
	return nil, errNoWorkflow
}
func (noWorkflow) DecideExtension(context.Context, *model.User, string, bool, string) (*model.Ticket, error) {
	return nil, errNoWorkflow
}
func (noWorkflow) Defer(context.Context, *model.User, string, string) (*model.Ticket, error) {
	return nil, errNoWorkflow
}
func (noWorkflow) Resume(context.Context, *model.User, string) (*model.Ticket, error) {
	return nil, errNoWorkflow
}
func (noWorkflow) Urge(context.Context, *model.User, string, string) (*model.Ticket, error) {
	return nil, errNoWorkflow
}
func (noWorkflow) Verify(context.Context, *model.User, string, *bool, string) (*model.Ticket, error) {
	return nil, errNoWorkflow
}
func (noWorkflow) TakeCall(context.Context, *model.User, service.HotlineInput) (*model.Ticket, error) {
	return nil, errNoWorkflow
}
