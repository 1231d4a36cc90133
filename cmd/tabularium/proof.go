package main

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tabularium/tabularium/client"
)

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
	if errors.Is(err, client.ErrNotPublished) {
		http.Error(w, err.Error(), http.StatusNotFound)
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
