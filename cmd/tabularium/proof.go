package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tabularium/tabularium/client"
)

// RefusedResponse is the JSON answer of GET /logs/{name}/proof/{index}, status
// 409, for an entry the log holds but the registry's rules refused on replay:
// Code and Message are the refusal recorded then.
type RefusedResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Index   uint64 `json:"index"`
	Verdict string `json:"verdict"`
}

func writeRefused(w http.ResponseWriter, e *client.RefusedError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusConflict)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(RefusedResponse{
		Code: e.Refusal.Code, Message: e.Refusal.Message, Index: e.Index,
		Verdict: fmt.Sprintf("entry %d is in the log, but the registry's rules refused it when it was replayed: it has no effect, and no certificate is issued for it", e.Index),
	})
}

// proofHandler serves GET /logs/{name}/proof/{index}: the certificate of an
// entry (c2sp.org/tlog-proof with the entry as extra data) against the log's
// latest published checkpoint, with the role grants that prove its signers'
// roles, read from the registry's role objects.
type proofHandler struct {
	issuer *client.Issuer
	logger *slog.Logger
}

func (h proofHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := r.PathValue("index")
	index, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(index, 10) != s {
		http.Error(w, "index must be a decimal number without leading zeros", http.StatusBadRequest)
		return
	}
	c, err := h.issuer.Issue(r.Context(), index)
	var refused *client.RefusedError
	switch {
	case errors.As(err, &refused):
		writeRefused(w, refused)
		return
	case errors.Is(err, client.ErrNotPublished):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case errors.Is(err, client.ErrNotJudged):
		w.Header().Set("Retry-After", "1")
		http.Error(w, fmt.Sprintf("entry %d is published, but the registry has not judged it yet; retry shortly", index), http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		h.logger.Error("issue certificate", "index", index, "err", err)
		http.Error(w, "the proof could not be built; retry later", http.StatusServiceUnavailable)
		return
	}
	b, err := c.Marshal()
	if err != nil {
		h.logger.Error("marshal certificate", "index", index, "err", err)
		http.Error(w, "the proof could not be built", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	// The answer changes with every published checkpoint.
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
