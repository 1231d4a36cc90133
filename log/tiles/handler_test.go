package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine/enginetest"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine"
)

// testLog is a real engine log of n entries, closed so that nothing changes while
// it is served.
type testLog struct {
	l       *engine.Log
	entries [][]byte // in index order
}

func newTestLog(t *testing.T, n int) testLog {
	t.Helper()
	l := enginetest.OpenPOSIX(t, "example.com/tiles", engine.Options{
		NoAntispam:         true,
		BatchMaxAge:        10 * time.Millisecond,
		CheckpointInterval: 100 * time.Millisecond,
	})
	entries := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			data := fmt.Appendf(nil, "tiles entry %d", i)
			idx, err := l.Add(context.Background(), data)
			if err != nil {
				errs[i] = err
				return
			}
			entries[idx.Index] = data
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Close waits for a checkpoint that covers every entry.
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	return testLog{l: l, entries: entries}
}

func leafHashes(entries [][]byte) []byte {
	var b []byte
	for _, e := range entries {
		h := log.LeafHash(e)
		b = append(b, h[:]...)
	}
	return b
}

// treeHash is the RFC 6962 Merkle tree hash of entries.
func treeHash(entries [][]byte) [32]byte {
	switch len(entries) {
	case 0:
		return log.EmptyRoot
	case 1:
		return log.LeafHash(entries[0])
	}
	k := 1
	for k*2 < len(entries) {
		k *= 2
	}
	l, r := treeHash(entries[:k]), treeHash(entries[k:])
	return sha256.Sum256(slices.Concat([]byte{1}, l[:], r[:]))
}

// bundle encodes entries as a c2sp.org/tlog-tiles entry bundle: each entry
// prefixed with its length as a 16-bit big-endian integer.
func bundle(entries [][]byte) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
		b = append(b, e...)
	}
	return b
}

func get(t *testing.T, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// maxAge returns the max-age directive of a Cache-Control value, or -1.
func maxAge(cc string) int {
	for d := range strings.SplitSeq(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return -1
}

func TestHandlerServesRealLog(t *testing.T) {
	const n = 300 // one full entry bundle and level-0 tile, then a partial one of 44
	tl := newTestLog(t, n)
	srv := httptest.NewServer(Handler{Reader: tl.l.Reader(), Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()

	t.Run("checkpoint", func(t *testing.T) {
		resp, body := get(t, http.MethodGet, srv.URL+"/checkpoint")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		cc := resp.Header.Get("Cache-Control")
		if strings.Contains(cc, "immutable") || maxAge(cc) < 0 || maxAge(cc) > 10 {
			t.Errorf("checkpoint Cache-Control %q is not short-lived", cc)
		}
		v, err := log.NewVerifier(tl.l.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := log.OpenCheckpoint(body, tl.l.Origin(), v)
		if err != nil {
			t.Fatalf("served checkpoint does not verify: %v", err)
		}
		if c.Size != n || c.Hash != treeHash(tl.entries) {
			t.Fatalf("served checkpoint commits to %d %x, want %d %x", c.Size, c.Hash, n, treeHash(tl.entries))
		}
	})

	root256 := treeHash(tl.entries[:256])
	resources := []struct {
		path string
		want []byte
	}{
		{"tile/0/000", leafHashes(tl.entries[:256])},
		{"tile/0/001.p/44", leafHashes(tl.entries[256:])},
		{"tile/1/000.p/1", root256[:]},
		{"tile/entries/000", bundle(tl.entries[:256])},
		{"tile/entries/001.p/44", bundle(tl.entries[256:])},
	}
	for _, r := range resources {
		t.Run(r.path, func(t *testing.T) {
			resp, body := get(t, http.MethodGet, srv.URL+"/"+r.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || maxAge(cc) < 86400 {
				t.Errorf("Cache-Control %q is not long-lived and immutable", cc)
			}
			if ce := resp.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding %q without Accept-Encoding", ce)
			}
			if isBundle := strings.HasPrefix(r.path, "tile/entries/"); isBundle != slices.Contains(resp.Header.Values("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q on an identity response (entry bundle: %v)", resp.Header.Values("Vary"), isBundle)
			}
			if !bytes.Equal(body, r.want) {
				t.Fatalf("body of %d bytes differs from the expected %d bytes", len(body), len(r.want))
			}

			head, hbody := get(t, http.MethodHead, srv.URL+"/"+r.path)
			if head.StatusCode != http.StatusOK || len(hbody) != 0 {
				t.Errorf("HEAD: status %d with %d body bytes", head.StatusCode, len(hbody))
			}
			for _, h := range []string{"Content-Type", "Cache-Control"} {
				if head.Header.Get(h) != resp.Header.Get(h) {
					t.Errorf("HEAD %s %q, GET has %q", h, head.Header.Get(h), resp.Header.Get(h))
				}
			}
		})
	}

	t.Run("gzip", func(t *testing.T) {
		for _, p := range []string{"tile/entries/000", "tile/entries/001.p/44"} {
			_, plain := get(t, http.MethodGet, srv.URL+"/"+p)
			// Setting Accept-Encoding by hand stops the client from decompressing.
			resp, body := get(t, http.MethodGet, srv.URL+"/"+p, "Accept-Encoding", "br, gzip")
			if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
				t.Fatalf("%s: Content-Encoding %q, want gzip", p, ce)
			}
			if !slices.Contains(resp.Header.Values("Vary"), "Accept-Encoding") {
				t.Errorf("%s: gzip response without Vary: Accept-Encoding", p)
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("%s: decompressed body differs from the identity body", p)
			}
		}
	})

	t.Run("status", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			want         int
		}{
			{"GET", "/tile/0/002", http.StatusNotFound},            // beyond the tree
			{"GET", "/tile/0/001", http.StatusNotFound},            // only partial so far
			{"GET", "/tile/0/001.p/45", http.StatusNotFound},       // wider than the tree
			{"GET", "/tile/2/000", http.StatusNotFound},            // level above the tree
			{"GET", "/tile/entries/x001/000", http.StatusNotFound}, // far beyond the tree
			{"GET", "/tile/entries/002", http.StatusNotFound},
			{"GET", "/", http.StatusNotFound},
			{"GET", "/index.html", http.StatusNotFound},
			{"GET", "/checkpoint/", http.StatusNotFound},
			{"GET", "/tiles/0/000", http.StatusNotFound},
			{"GET", "/.state/treeState", http.StatusNotFound},
			{"GET", "/tile/00/000", http.StatusBadRequest},
			{"GET", "/tile/64/000", http.StatusBadRequest},
			{"GET", "/tile/0/0000", http.StatusBadRequest},
			{"GET", "/tile/0/x000/001", http.StatusBadRequest},
			{"GET", "/tile/0/000.p/0", http.StatusBadRequest},
			{"GET", "/tile/0/000.p/256", http.StatusBadRequest},
			{"GET", "/tile/entries/1", http.StatusBadRequest},
			{"GET", "/tile/0", http.StatusBadRequest},
			{"POST", "/checkpoint", http.StatusMethodNotAllowed},
			{"PUT", "/tile/0/000", http.StatusMethodNotAllowed},
			{"DELETE", "/checkpoint", http.StatusMethodNotAllowed},
			{"HEAD", "/checkpoint", http.StatusOK},
		} {
			resp, body := get(t, tc.method, srv.URL+tc.path)
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s: status %d, want %d (%s)", tc.method, tc.path, resp.StatusCode, tc.want, body)
			}
			if tc.want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q", tc.method, tc.path, resp.Header.Get("Allow"))
			}
			if tc.want != http.StatusOK && resp.Header.Get("Cache-Control") == ImmutableCacheControl {
				t.Errorf("%s %s: error response marked immutable", tc.method, tc.path)
			}
		}
	})
}

// fakeReader serves made-up resources: every coordinate exists except those the
// test marks missing or failing. It records the last resource read.
type fakeReader struct {
	mu      sync.Mutex
	last    Resource
	missing bool
	fail    error
}

func (f *fakeReader) read(r Resource) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = r
	if f.missing {
		return nil, fmt.Errorf("reading %s: %w", r, os.ErrNotExist)
	}
	if f.fail != nil {
		return nil, f.fail
	}
	return []byte(r.String()), nil
}

func (f *fakeReader) ReadCheckpoint(context.Context) ([]byte, error) {
	return f.read(Resource{Kind: Checkpoint})
}

func (f *fakeReader) ReadTile(_ context.Context, level, index uint64, p uint8) ([]byte, error) {
	return f.read(Resource{Kind: Tile, Level: level, Index: index, Width: p})
}

func (f *fakeReader) ReadEntryBundle(_ context.Context, index uint64, p uint8) ([]byte, error) {
	return f.read(Resource{Kind: EntryBundle, Index: index, Width: p})
}

func serve(h http.Handler, method, path, acceptEncoding string, pathValue bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Method = method
	if pathValue {
		req.SetPathValue("path", path)
	} else {
		req.URL.Path = "/" + path
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandlerReaderErrors(t *testing.T) {
	secret := errors.New("open /srv/logs/secret/path: permission denied")
	for _, tc := range []struct {
		name   string
		reader *fakeReader
		want   int
	}{
		{"missing", &fakeReader{missing: true}, http.StatusNotFound},
		{"failing", &fakeReader{fail: secret}, http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Handler{Reader: tc.reader, Logger: slog.New(slog.DiscardHandler)}
			for _, p := range []string{"checkpoint", "tile/0/000", "tile/entries/001.p/3"} {
				w := serve(h, http.MethodGet, p, "gzip", false)
				if w.Code != tc.want {
					t.Errorf("%s: status %d, want %d", p, w.Code, tc.want)
				}
				if strings.Contains(w.Body.String(), "secret") {
					t.Errorf("%s: error response leaks the reader's error: %q", p, w.Body)
				}
				if cc := w.Header().Get("Cache-Control"); cc != "" {
					t.Errorf("%s: error response has Cache-Control %q", p, cc)
				}
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"br, gzip;q=0.5"}, true},
		{[]string{"gzip ; q=1"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip;q=0.0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"gzip;Q=0"}, false},
		{[]string{"x-gzip"}, false},
		{[]string{"identity"}, false},
		{[]string{"br", "gzip"}, true}, // the header sent twice
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, v := range tc.header {
			r.Header.Add("Accept-Encoding", v)
		}
		if got := acceptsGzip(r); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

// FuzzHandler checks that the handler never panics, answers only with the
// statuses the API defines, and reads a resource only for a path that is its
// canonical name.
func FuzzHandler(f *testing.F) {
	for _, p := range []string{"checkpoint", "tile/0/000", "tile/entries/x001/234.p/5", "tile/1/x000/000", "tile/", "../checkpoint", "tile/0/%30"} {
		f.Add("GET", p, "gzip", false)
		f.Add("HEAD", p, "", true)
	}
	f.Add("POST", "checkpoint", "", false)
	f.Fuzz(func(t *testing.T, method, path, acceptEncoding string, pathValue bool) {
		reader := &fakeReader{}
		h := Handler{Reader: reader, Logger: slog.New(slog.DiscardHandler)}
		w := serve(h, method, path, acceptEncoding, pathValue)
		switch w.Code {
		case http.StatusOK:
			if got := reader.last.String(); got != path {
				t.Fatalf("%s %q served resource %q", method, path, reader.last)
			}
			if method != http.MethodGet && method != http.MethodHead {
				t.Fatalf("%s %q served", method, path)
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("%s %q: status %d", method, path, w.Code)
		}
	})
}
