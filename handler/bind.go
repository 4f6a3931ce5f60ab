package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

var errEmptyBody = errors.New("empty body")

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decode reads the JSON body into dst with precise errors. Unknown fields
// are ignored so that a newer mini-program can talk to an older server.
func decode(c echo.Context, dst any) error {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, maxJSONBody)
	body, err := io.ReadAll(r)
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return jsonError(errEmptyBody)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return model.Errorf(model.CodeInvalidArgument, "malformed JSON: one object expected, found more")
	}
	return nil
}
