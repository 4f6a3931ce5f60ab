package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// categoryJSON is a category of the catalogue, as everyone sees it.
type categoryJSON struct {
	Code              string `json:"code"`
	Name              string `json:"name"`
	Major             string `json:"major"`
	SLAHours          int    `json:"sla_hours"`
	VolunteerSuitable bool   `json:"volunteer_suitable"`
	DuplicateRadiusM  int    `json:"duplicate_radius_m"`
}

func toCategory(c model.Category) categoryJSON {
	return categoryJSON{Code: c.Code, Name: c.Name, Major: c.Major, SLAHours: c.SLAHours,
		VolunteerSuitable: c.VolunteerSuitable, DuplicateRadiusM: c.DuplicateRadiusM}
}

func (h *handlers) listCategories(c echo.Context) error {
	cats, err := h.Categories.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := itemsJSON[categoryJSON]{Items: make([]categoryJSON, len(cats))}
	for i, cat := range cats {
		out.Items[i] = toCategory(cat)
	}
	return c.JSON(http.StatusOK, out)
}

type putCategoryRequest struct {
	Name              string `json:"name"`
	Major             string `json:"major"`
	SLAHours          *int   `json:"sla_hours"`
	VolunteerSuitable *bool  `json:"volunteer_suitable"`
	DuplicateRadiusM  *int   `json:"duplicate_radius_m"`
}

func (h *handlers) putCategory(c echo.Context) error {
	var req putCategoryRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.SLAHours == nil {
		return model.Invalid("sla_hours", "不能为空")
	}
	if req.VolunteerSuitable == nil {
		return model.Invalid("volunteer_suitable", "不能为空（true 或 false）")
	}
	radius := 50
	if req.DuplicateRadiusM != nil {
		radius = *req.DuplicateRadiusM
	}
	cat, err := h.Categories.Put(c.Request().Context(), model.Category{
		Code: c.Param("code"), Name: req.Name, Major: req.Major, SLAHours: *req.SLAHours,
		VolunteerSuitable: *req.VolunteerSuitable, DuplicateRadiusM: radius,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCategory(cat))
}
