package api

import (
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// pushbackWarnEvery is how often, at most, a 503 is logged at Warn. A 503 is
// expected under overload (the client is told to retry after Retry-After);
// logging each one at Error wrote over a thousand lines in 20 s of load and
// cost CPU when the server had least to spare (BENCHMARKS.md).
const pushbackWarnEvery = 10 * time.Second

// pushbackLog logs 503 answers: each at Debug, and at most one Warn per
// pushbackWarnEvery that counts the 503s since the last Warn. Safe for
// concurrent use.
type pushbackLog struct {
	mu    sync.Mutex
	last  time.Time // of the last Warn
	count int       // 503s since the last Warn
	now   func() time.Time
}

func (p *pushbackLog) log(logger *slog.Logger, r *http.Request, err error) {
	logger.Debug("request pushed back", "method", r.Method, "path", r.URL.Path, "err", err)
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	p.mu.Lock()
	p.count++
	t := now()
	if !p.last.IsZero() && t.Sub(p.last) < pushbackWarnEvery {
		p.mu.Unlock()
		return
	}
	n := p.count
	p.last, p.count = t, 0
	p.mu.Unlock()
	logger.Warn("answering 503: the log pushes back or is closing; clients retry after Retry-After",
		"count", n, "since", pushbackWarnEvery, "path", r.URL.Path, "err", err)
}
