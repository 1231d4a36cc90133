// Package enginetest opens real tessera-backed logs for other packages' tests.
package enginetest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine"
)

// OpenPOSIX opens a POSIX log for origin in a fresh temporary folder under a
// freshly generated key, with options o, and closes it when the test ends.
func OpenPOSIX(tb testing.TB, origin string, o engine.Options) *engine.Log {
	tb.Helper()
	skey, vkey, err := log.GenerateKey(origin)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := log.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	// A background context: the log must outlive t.Context, which ends before
	// cleanups run.
	l, err := engine.OpenPOSIX(context.Background(), engine.POSIXConfig{Dir: tb.TempDir(), Signer: signer, VKey: vkey,
		Options: o, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			tb.Logf("close %s: %v", origin, err)
		}
	})
	return l
}
