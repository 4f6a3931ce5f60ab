package handler

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type issueKeyRequest struct {
	Name string `json:"name"`
}

// apiKeyJSON is an api key as staff list it: never its secret.
type apiKeyJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Active    bool       `json:"active"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// issuedKeyJSON is a new key: the only time api_key is shown.
type issuedKeyJSON struct {
	ID        string    `json:"id"`
	APIKey    string    `json:"api_key"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// issueOpen311Key is POST /api/v1/admin/open311/keys.
func (h *handlers) issueOpen311Key(c echo.Context) error {
	var req issueKeyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	k, err := h.Open311.IssueKey(c.Request().Context(), currentUser(c), req.Name)
	if err != nil {
		return err
	}
	// The secret must not linger in caches or proxies.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, issuedKeyJSON{ID: k.Key.ID, APIKey: k.APIKey, Name: k.Key.Name, CreatedAt: k.Key.CreatedAt.UTC()})
}

// listOpen311Keys is GET /api/v1/admin/open311/keys.
func (h *handlers) listOpen311Keys(c echo.Context) error {
	keys, err := h.Open311.Keys(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]apiKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = apiKeyJSON{ID: k.ID, Name: k.Name, Active: !k.Revoked(), CreatedAt: k.CreatedAt.UTC()}
		if k.Revoked() {
			at := k.RevokedAt.UTC()
			out[i].RevokedAt = &at
		}
	}
	return c.JSON(http.StatusOK, itemsJSON[apiKeyJSON]{Items: out})
}

// revokeOpen311Key is DELETE /api/v1/admin/open311/keys/{id}.
func (h *handlers) revokeOpen311Key(c echo.Context) error {
	if err := h.Open311.RevokeKey(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
