package registry_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/rules"
)

// BenchmarkSubmitParallel submits single-signature entries, each naming a new
// object, from many goroutines to one registry over a real POSIX log with
// antispam on and the engine's default batching, and reports entries per second.
// Entries are built and signed before the timer starts; parsing and verifying
// them is part of what is measured. Pushback is retried, as a client would.
func BenchmarkSubmitParallel(b *testing.B) {
	origin := "tabularium.local/bench"
	lg := openPOSIX(b, origin, engine.Options{})
	f := newFixture(b, origin, lg)
	entries := make([][]byte, b.N)
	for i := range entries {
		entries[i] = f.grant(rules.RoleNotary)
	}
	var next atomic.Int64
	var pushbacks atomic.Int64
	ctx := context.Background()
	b.SetParallelism(256)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			raw := entries[next.Add(1)-1]
			for {
				_, err := f.reg.Submit(ctx, raw, false)
				if errors.Is(err, engine.ErrPushback) {
					pushbacks.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if err != nil {
					b.Error(err)
				}
				break
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(pushbacks.Load()), "pushbacks")
}
