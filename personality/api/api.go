package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
)

// ContentType is the media type of a submitted entry.
const ContentType = "application/cose"

// Handler serves the API for a set of registries, by log name.
type Handler struct {
	registries map[string]*registry.Registry
	logger     *slog.Logger
	pushback   pushbackLog
}

// New returns a handler for the registries, keyed by the {name} in the path.
// A nil logger discards.
func New(registries map[string]*registry.Registry, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{registries: registries, logger: logger}
}

// Register mounts the API's routes on mux, one pair per registry, so that they
// are more specific than a tile server's "GET /logs/<name>/{path...}".
func (h *Handler) Register(mux *http.ServeMux) {
	for name, reg := range h.registries {
		mux.HandleFunc("POST /logs/"+name+"/entries", func(w http.ResponseWriter, r *http.Request) { h.submit(w, r, reg) })
		mux.HandleFunc("GET /logs/"+name+"/objects/{id...}", func(w http.ResponseWriter, r *http.Request) { h.object(w, r, reg) })
	}
}

// ServeHTTP serves the API on its own mux.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mux := http.NewServeMux()
	h.Register(mux)
	mux.ServeHTTP(w, r)
}

// SubmitResponse is the JSON answer to an accepted submission.
type SubmitResponse struct {
	Index      uint64 `json:"index"`
	LeafHash   string `json:"leaf_hash"`
	EntryHash  string `json:"entry_hash"`
	Duplicate  bool   `json:"duplicate,omitempty"`
	Checkpoint string `json:"checkpoint,omitempty"`
}

// ErrorResponse is the JSON body of every refusal.
type ErrorResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request, reg *registry.Registry) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != ContentType {
		writeJSON(w, http.StatusUnsupportedMediaType, ErrorResponse{Code: "content-type", Message: "send the entry with Content-Type: " + ContentType})
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, entry.MaxSize+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, r, entry.ErrTooLarge)
			return
		}
		writeJSON(w, http.StatusBadRequest, ErrorResponse{Code: "read-body", Message: err.Error()})
		return
	}
	rc, err := reg.Submit(r.Context(), raw, r.URL.Query().Get("wait") == "published")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SubmitResponse{
		Index:      rc.Index,
		LeafHash:   hex.EncodeToString(rc.LeafHash[:]),
		EntryHash:  hex.EncodeToString(rc.EntryHash[:]),
		Duplicate:  rc.Duplicate,
		Checkpoint: string(rc.Checkpoint),
	})
}

func (h *Handler) object(w http.ResponseWriter, r *http.Request, reg *registry.Registry) {
	obj, err := reg.Object(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if obj == nil {
		writeJSON(w, http.StatusNotFound, ErrorResponse{Code: rules.CodeUnknownObject, Message: "no object " + r.PathValue("id") + " in this registry"})
		return
	}
	// A vaccination certificate's status is derived from its batch: a
	// recall writes the batch only.
	if b := rules.BatchOf(obj); b != "" {
		batch, err := reg.Object(b)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		obj.Status = rules.CertificateStatus(obj, batch)
	}
	writeJSON(w, http.StatusOK, obj)
}

// status maps an error to its HTTP status and JSON body: the one place where
// domain errors meet HTTP.
func status(err error) (int, ErrorResponse) {
	var re *rules.Error
	switch {
	case errors.As(err, &re):
		return re.Class.HTTPStatus(), ErrorResponse{Code: re.Code, Message: re.Message}
	case errors.Is(err, entry.ErrTooLarge), errors.Is(err, engine.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, ErrorResponse{Code: rules.CodeTooLarge, Message: "the entry is larger than 64 KiB; commit to documents instead of including them"}
	case errors.Is(err, entry.ErrMalformed):
		return http.StatusBadRequest, ErrorResponse{Code: rules.CodeMalformed, Message: err.Error()}
	case errors.Is(err, entry.ErrBadSignature):
		return http.StatusForbidden, ErrorResponse{Code: rules.CodeBadSignature, Message: err.Error()}
	case errors.Is(err, engine.ErrPushback):
		return http.StatusServiceUnavailable, ErrorResponse{Code: "pushback", Message: "the log is overloaded; retry after the Retry-After delay"}
	case errors.Is(err, engine.ErrClosed):
		return http.StatusServiceUnavailable, ErrorResponse{Code: "closed", Message: "the log is shutting down; retry shortly"}
	}
	return http.StatusInternalServerError, ErrorResponse{Code: "internal", Message: "internal error; the operator's logs say more"}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, body := status(err)
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	switch {
	case code == http.StatusServiceUnavailable:
		h.pushback.log(h.logger, r, err)
	case code >= 500:
		h.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
