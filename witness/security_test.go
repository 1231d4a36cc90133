package witness_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/witness"
)

// cosign submits the log's checkpoint of size to, extending from, and fails the
// test unless it is cosigned.
func cosign(t *testing.T, w *testWitness, l *testLog, from, to int64) {
	t.Helper()
	if code, _, resp := post(t, w.url, body(from, l.proof(from, to), l.checkpoint(to))); code != http.StatusOK {
		t.Fatalf("cosigning %d→%d: %d %s", from, to, code, resp)
	}
}

func TestRollbackRefused(t *testing.T) {
	l := newTestLog(t, "example.com/log")
	l.grow(10)
	w := newTestWitness(t, witness.NewMemoryStore(), l)
	cosign(t, w, l, 0, 10)
	before := w.stored(t, l)
	for _, tt := range []struct {
		name string
		old  int64
		code int
	}{
		{"claiming the old size is the latest", 10, http.StatusBadRequest},
		{"claiming the smaller size", 5, http.StatusConflict},
		{"from zero", 0, http.StatusConflict},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, resp := post(t, w.url, body(tt.old, l.proof(tt.old, 5), l.checkpoint(5)))
			if code != tt.code {
				t.Fatalf("rollback to 5: %d, want %d: %s", code, tt.code, resp)
			}
			if !bytes.Equal(w.stored(t, l), before) {
				t.Fatal("a refused rollback changed the stored checkpoint")
			}
		})
	}
}

func TestForkSameSizeOtherRootRefusedAndStateUnchanged(t *testing.T) {
	l := newTestLog(t, "example.com/log")
	l.grow(8)
	w := newTestWitness(t, witness.NewMemoryStore(), l)
	cosign(t, w, l, 0, 8)
	before := w.stored(t, l)

	fork := log.Checkpoint{Origin: l.origin, Size: 8, Hash: l.root(7)}
	code, ctype, resp := post(t, w.url, body(8, nil, l.sign(fork)))
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("fork at the same size: %d %q %q, want 422", code, ctype, resp)
	}
	if !bytes.Equal(w.stored(t, l), before) {
		t.Fatal("a refused fork changed the stored checkpoint")
	}
	// The witness still extends its own view, and only it.
	l.grow(4)
	cosign(t, w, l, 8, 12)
}

func TestForgedSignatureLinesDoNotPoisonState(t *testing.T) {
	l := newTestLog(t, "example.com/log")
	l.grow(6)
	skey, _, err := log.GenerateKey("witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	w := startWitness(t, skey, witness.NewMemoryStore(), l)
	cv, err := log.NewVerifier(w.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	stranger := newTestLog(t, "stranger.example/key")
	forgedOwn := fmt.Sprintf("— %s %s\n", cv.Name(), base64.StdEncoding.EncodeToString(
		append(be32(cv.KeyHash()), bytes.Repeat([]byte{1}, 72)...)))
	withStranger, err := note.Sign(&note.Note{Text: string(log.Checkpoint{Origin: l.origin, Size: 6, Hash: l.root(6)}.Marshal())}, l.signer, stranger.signer)
	if err != nil {
		t.Fatal(err)
	}
	// A note with the log's valid signature, an unknown key's valid signature and
	// a forged line claiming to be the witness's own cosignature.
	msg := append(withStranger, forgedOwn...)
	code, _, resp := post(t, w.url, body(0, nil, msg))
	if code != http.StatusOK {
		t.Fatalf("checkpoint with extra lines: %d %s", code, resp)
	}
	stored := string(w.stored(t, l))
	if strings.Contains(stored, "stranger.example") || strings.Contains(stored, forgedOwn) {
		t.Fatalf("stored checkpoint kept a line not made by the log or the witness:\n%s", stored)
	}
	lv, _ := log.NewVerifier(l.vkey)
	n, err := note.Open([]byte(stored), note.VerifierList(lv, cv))
	if err != nil || len(n.Sigs) != 2 || len(n.UnverifiedSigs) != 0 {
		t.Fatalf("stored checkpoint is not exactly log plus witness: %v\n%s", err, stored)
	}

	// A forged line in the log's own name is refused and stores nothing.
	l.grow(2)
	good := l.checkpoint(8)
	i := bytes.Index(good, []byte("\n— "))
	forgedLog := append(append([]byte{}, good[:i+1]...), []byte(fmt.Sprintf("— %s %s\n", l.signer.Name(),
		base64.StdEncoding.EncodeToString(append(be32(l.signer.KeyHash()), bytes.Repeat([]byte{2}, 64)...))))...)
	if code, _, _ := post(t, w.url, body(6, l.proof(6, 8), forgedLog)); code != http.StatusForbidden {
		t.Fatalf("forged log signature: %d, want 403", code)
	}
	if string(w.stored(t, l)) != stored {
		t.Fatal("a forged log signature changed the stored checkpoint")
	}
}

func be32(x uint32) []byte { return []byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)} }

// TestConcurrentAddCheckpointIsAtomic submits many checkpoints extending the
// same old size at once: exactly one may win, the others see a conflict.
func TestConcurrentAddCheckpointIsAtomic(t *testing.T) {
	l := newTestLog(t, "example.com/log")
	l.grow(40)
	w := newTestWitness(t, witness.NewMemoryStore(), l)
	cosign(t, w, l, 0, 5)
	var wg sync.WaitGroup
	codes := make([]int, 30)
	for i := range codes {
		wg.Go(func() {
			codes[i], _, _ = post(t, w.url, body(5, l.proof(5, int64(6+i)), l.checkpoint(int64(6+i))))
		})
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("unexpected status %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent requests from size 5 were cosigned, want 1", won)
	}
}
