package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/atrium-dev/atrium"
)

// statusOf maps an error code to its HTTP status. It is the only place
// where codes meet statuses.
var statusOf = map[string]int{
	atrium.EInvalid:         http.StatusBadRequest,
	atrium.ENotFound:        http.StatusNotFound,
	atrium.EForbidden:       http.StatusForbidden,
	atrium.EConflict:        http.StatusConflict,
	atrium.EUnauthorized:    http.StatusUnauthorized,
	atrium.ERateLimited:     http.StatusTooManyRequests,
	atrium.ETooLarge:        http.StatusRequestEntityTooLarge,
	atrium.EQuota:           http.StatusRequestEntityTooLarge,
	atrium.EVersion:         http.StatusPreconditionFailed,
	atrium.EUnsupported:     http.StatusUnsupportedMediaType,
	atrium.EGone:            http.StatusGone,
	atrium.EPrecondition:    http.StatusUnprocessableEntity,
	atrium.EMalware:         http.StatusUnprocessableEntity,
	atrium.EFeatureDisabled: http.StatusForbidden,
	atrium.EScope:           http.StatusForbidden,
	atrium.EUnavailable:     http.StatusServiceUnavailable,
	atrium.EInternal:        http.StatusInternalServerError,
	atrium.EUpgrade:         http.StatusInternalServerError,
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError renders err as {"error":{"code","message"}} with its status.
// Internal errors are logged with their cause and shown only as "internal
// error".
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := atrium.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path)
	}
	var e *atrium.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if code == atrium.EUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="atrium"`)
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message = code, atrium.ErrorMessage(err)
	writeJSON(w, status, body)
}
