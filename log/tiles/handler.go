package tiles

import (
	"compress/gzip"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Reader reads a log's published resources. tessera.LogReader satisfies it.
// Implementations return an error wrapping os.ErrNotExist for what does not exist,
// and must be safe for concurrent use.
type Reader interface {
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error)
	ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error)
}

// Cache-Control values. SPEC(tlog-tiles): the checkpoint is mutable and should not
// be cached beyond a few seconds; tiles and entry bundles are immutable.
const (
	CheckpointCacheControl = "no-cache, max-age=0"
	ImmutableCacheControl  = "public, max-age=31536000, immutable"
)

// Handler serves the read API of one log. It expects the request path, with the
// log's prefix already stripped, in r.PathValue("path") if set, else in r.URL.Path.
type Handler struct {
	Reader Reader
	Logger *slog.Logger
}

func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.PathValue("path")
	if p == "" {
		p = strings.TrimPrefix(r.URL.Path, "/")
	}
	res, err := ParsePath(p)
	if err != nil {
		// A malformed tile path is a bad request; anything else is simply not here.
		status := http.StatusNotFound
		if strings.HasPrefix(p, "tile/") {
			status = http.StatusBadRequest
		}
		http.Error(w, err.Error(), status)
		return
	}
	var body []byte
	switch res.Kind {
	case Checkpoint:
		body, err = h.Reader.ReadCheckpoint(r.Context())
	case Tile:
		body, err = h.Reader.ReadTile(r.Context(), res.Level, res.Index, res.Width)
	case EntryBundle:
		body, err = h.Reader.ReadEntryBundle(r.Context(), res.Index, res.Width)
	}
	if errors.Is(err, os.ErrNotExist) || (err == nil && body == nil) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err != nil {
		h.logger().ErrorContext(r.Context(), "read log resource", "path", p, "err", err)
		http.Error(w, "internal error reading the log", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	if res.Kind == Checkpoint {
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
		hdr.Set("Cache-Control", CheckpointCacheControl)
	} else {
		hdr.Set("Content-Type", "application/octet-stream")
		hdr.Set("Cache-Control", ImmutableCacheControl)
	}
	if res.Kind == EntryBundle {
		// Both encodings of a bundle vary with Accept-Encoding, so caches must key
		// the identity response on it too.
		hdr.Add("Vary", "Accept-Encoding")
	}
	if res.Kind == EntryBundle && acceptsGzip(r) {
		hdr.Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(body)
		_ = zw.Close()
		return
	}
	_, _ = w.Write(body)
}

func (h Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// acceptsGzip reports whether the request's Accept-Encoding fields list gzip with a
// non-zero weight. SPEC(RFC 9110, 12.4.2): "A value of 0 means 'not acceptable'";
// the weight's "q" is case-insensitive and may be written "0.0" or "0.000". A
// malformed weight counts as not acceptable: identity is always safe to send.
func acceptsGzip(r *http.Request) bool {
	for _, field := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(field, ",") {
			enc, params, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
				return positiveWeight(params)
			}
		}
	}
	return false
}

// positiveWeight reports whether the parameters of a coding give it a weight above
// zero; no weight means 1.
func positiveWeight(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		name, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(name), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0 && q <= 1
		}
	}
	return true
}
