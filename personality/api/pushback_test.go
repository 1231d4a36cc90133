package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine"
)

// levelCounter is a slog.Handler that counts records by level.
type levelCounter struct {
	mu     sync.Mutex
	counts map[slog.Level]int
}

func (c *levelCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *levelCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[r.Level]++
	return nil
}
func (c *levelCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *levelCounter) WithGroup(string) slog.Handler      { return c }

// TestPushbackIsNotAnErrorPerRequest: a 503 under overload is expected, so it
// is logged at Debug with at most one Warn per interval — never Error — while
// other server errors still are; every 503 carries Retry-After.
func TestPushbackIsNotAnErrorPerRequest(t *testing.T) {
	c := &levelCounter{counts: map[slog.Level]int{}}
	h := New(nil, slog.New(c))
	clock := time.Unix(1_700_000_000, 0)
	h.pushback.now = func() time.Time { return clock }
	fail := func(err error) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.fail(w, httptest.NewRequest(http.MethodPost, "/logs/land/entries", nil), err)
		return w
	}
	for i := range 1000 {
		if i == 500 {
			clock = clock.Add(pushbackWarnEvery)
		}
		w := fail(engine.ErrPushback)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Fatalf("pushback answered %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
		}
	}
	if got := c.counts[slog.LevelError]; got != 0 {
		t.Errorf("%d pushbacks logged at Error", got)
	}
	if got := c.counts[slog.LevelWarn]; got != 2 {
		t.Errorf("%d Warn lines for 1000 pushbacks over two intervals, want 2", got)
	}
	if got := c.counts[slog.LevelDebug]; got != 1000 {
		t.Errorf("%d Debug lines, want 1000", got)
	}
	if w := fail(errors.New("disk on fire")); w.Code != http.StatusInternalServerError || c.counts[slog.LevelError] != 1 {
		t.Errorf("internal error: %d, %d Error lines", w.Code, c.counts[slog.LevelError])
	}
}
