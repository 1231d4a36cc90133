package registry_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// bomb returns a land.register signed by n throwaway keys: it needs a
// registrar, and none of them is one.
func bomb(tb testing.TB, f *fixture, n int) []byte {
	tb.Helper()
	p := &entry.Payload{Log: f.cfg.Log, Type: entry.TypeLandRegister, Object: "land/bomb", Time: f.tick(),
		Fields: &entry.OwnersFields{Owners: []entry.Share{{Key: key(tb).Public, Share: "1"}}}, Docs: []entry.Commitment{entry.CommitWithSalt("deed", nil, nil)}}
	return f.sign(p, keys(tb, n)...)
}

// BenchmarkSignatureBomb measures what one refused entry with n throwaway
// signers costs the server (Submit, to its refusal).
func BenchmarkSignatureBomb(b *testing.B) {
	for _, n := range []int{16, 470} {
		b.Run(map[int]string{16: "signers=16", 470: "signers=470"}[n], func(b *testing.B) {
			origin := "tabularium.local/land"
			f := newFixture(b, origin, openPOSIX(b, origin, engine.Options{NoAntispam: true}))
			raw := bomb(b, f, n)
			b.SetBytes(int64(len(raw)))
			b.ResetTimer()
			for range b.N {
				if _, err := f.reg.Submit(context.Background(), raw, false); err == nil {
					b.Fatal("the bomb was accepted")
				}
			}
		})
	}
}

// BenchmarkLegitimateUnderBombs measures the latency of legitimate
// submitters (8 goroutines, one single-signature role grant at a time, 50 ms
// batches, antispam on) while 32 clients submit 470-signer bombs, each at most
// one per 20 ms (1,600 a second offered in all, the same load whatever a bomb
// costs), and without them. One op is one legitimate entry.
func BenchmarkLegitimateUnderBombs(b *testing.B) {
	for _, attackers := range []int{0, 32} {
		b.Run(map[int]string{0: "attackers=0", 32: "attackers=32"}[attackers], func(b *testing.B) {
			origin := "tabularium.local/land"
			f := newFixture(b, origin, openPOSIX(b, origin, engine.Options{}))
			raw := bomb(b, f, 470)
			entries := make([][]byte, b.N)
			for i := range entries {
				entries[i] = f.grant(rules.RoleNotary)
			}
			ctx, stop := context.WithCancel(context.Background())
			var bombs atomic.Int64
			var wg sync.WaitGroup
			for range attackers {
				wg.Go(func() {
					for ctx.Err() == nil {
						next := time.Now().Add(20 * time.Millisecond)
						f.reg.Submit(ctx, raw, false)
						bombs.Add(1)
						time.Sleep(time.Until(next))
					}
				})
			}
			time.Sleep(100 * time.Millisecond)
			var mu sync.Mutex
			var lat []time.Duration
			var next atomic.Int64
			b.ResetTimer()
			var legit sync.WaitGroup
			for range 8 {
				legit.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(len(entries)) {
							return
						}
						start := time.Now()
						for {
							_, err := f.reg.Submit(context.Background(), entries[i], false)
							if errors.Is(err, engine.ErrPushback) {
								time.Sleep(10 * time.Millisecond)
								continue
							}
							if err != nil {
								b.Error(err)
							}
							break
						}
						mu.Lock()
						lat = append(lat, time.Since(start))
						mu.Unlock()
					}
				})
			}
			legit.Wait()
			b.StopTimer()
			stop()
			wg.Wait()
			slices.Sort(lat)
			var sum time.Duration
			for _, l := range lat {
				sum += l
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(lat)), "mean-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
			b.ReportMetric(float64(bombs.Load())/b.Elapsed().Seconds(), "bombs/s")
		})
	}
}
