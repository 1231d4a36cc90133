package engine

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log"
)

// TestLogOutlivesItsOpeningContext checks that cancelling the context a log was
// opened with (a server's signal context, say) does not stop tessera under
// entries already handed to it: Close still resolves and publishes every one.
func TestLogOutlivesItsOpeningContext(t *testing.T) {
	skey, vkey := testKey(t, "example.com/lifetime")
	signer, err := log.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	openCtx, cancelOpen := context.WithCancel(context.Background())
	l, err := OpenPOSIX(openCtx, POSIXConfig{Dir: t.TempDir(), Signer: signer, VKey: vkey,
		Options: fastOptions(Options{BatchMaxAge: 300 * time.Millisecond, NoAntispam: true}), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var futures []Future
	for i := 0; i < 20; i++ {
		f, err := l.Enqueue(context.Background(), []byte(fmt.Sprintf("entry %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	cancelOpen() // as SIGTERM cancels the server's context
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for _, f := range futures {
			if _, err := f(); err != nil {
				done <- err
				return
			}
		}
		done <- l.Close(ctx)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after the opening context ended: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("entries handed to the log were never resolved after its opening context ended")
	}
	cp, err := l.Reader().ReadCheckpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := openCheckpoint(t, l, cp); c.Size != 20 {
		t.Fatalf("published size %d after Close, want 20", c.Size)
	}
}
