package witness

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// StatusCode maps an error of this package to its HTTP status code per
// c2sp.org/tlog-witness. A nil error is 200; unknown errors are 500.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrUnknownLog):
		return http.StatusNotFound
	case errors.Is(err, ErrUnverified):
		return http.StatusForbidden
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrOldSizeTooLarge):
		return http.StatusBadRequest
	case errors.Is(err, ErrOldSizeMismatch):
		return http.StatusConflict
	case errors.Is(err, ErrInconsistent), errors.Is(err, ErrFork):
		return http.StatusUnprocessableEntity
	default:
		return http.StatusInternalServerError
	}
}

func (w *Witness) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", w.serveAddCheckpoint)
	mux.HandleFunc("GET /{origin}/checkpoint", w.serveCheckpoint)
	return mux
}

// ServeHTTP serves POST /add-checkpoint (c2sp.org/tlog-witness) and
// GET /<origin hash>/checkpoint, the latest cosigned checkpoint of a log.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

func (w *Witness) serveAddCheckpoint(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, int64(MaxBodySize)))
	if err != nil {
		err = fmt.Errorf("%w: reading body: %v", ErrMalformed, err)
		w.report(r.Context(), "", AddCheckpointRequest{}, err)
		writeError(rw, err)
		return
	}
	req, err := ParseAddCheckpoint(body)
	if err != nil {
		w.report(r.Context(), "", req, err)
		writeError(rw, err)
		return
	}
	sigs, err := w.AddCheckpoint(r.Context(), req)
	if err != nil {
		writeError(rw, err)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Write(sigs)
}

// writeError writes the response for a refused add-checkpoint.
func writeError(rw http.ResponseWriter, err error) {
	code := StatusCode(err)
	var conflict *ConflictError
	if code == http.StatusConflict && errors.As(err, &conflict) {
		// SPEC(tlog-witness): "The response body MUST consist of the tree size of
		// the latest cosigned checkpoint in decimal, followed by a newline
		// (U+000A). The response MUST have a Content-Type of text/x.tlog.size."
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(code)
		io.WriteString(rw, strconv.FormatUint(conflict.Size, 10)+"\n")
		return
	}
	msg := err.Error()
	if code == http.StatusInternalServerError {
		msg = "internal error" // details are logged, not sent
	}
	http.Error(rw, msg, code)
}

func (w *Witness) serveCheckpoint(rw http.ResponseWriter, r *http.Request) {
	origin, ok := w.byHash[r.PathValue("origin")]
	if !ok {
		http.Error(rw, "unknown log", http.StatusNotFound)
		return
	}
	cp, err := w.Latest(r.Context(), origin)
	if err != nil {
		w.logger.ErrorContext(r.Context(), "loading checkpoint", "origin", origin, "error", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	if cp == nil {
		http.Error(rw, "no checkpoint cosigned yet", http.StatusNotFound)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.Write(cp)
}
