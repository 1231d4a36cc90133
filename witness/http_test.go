package witness_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/witness"
)

func TestAddCheckpointStatuses(t *testing.T) {
	l := newTestLog(t, "example.com/log")
	l.grow(20)
	other := newTestLog(t, "example.com/other")
	impostor := newTestLog(t, "example.com/log") // same origin and name, other key
	other.grow(10)
	impostor.grow(20)
	empty := log.Checkpoint{Origin: l.origin, Size: 0, Hash: [32]byte{1}}

	w := newTestWitness(t, witness.NewMemoryStore(), l)
	code, _, resp := post(t, w.url, body(0, nil, l.checkpoint(5)))
	if code != http.StatusOK {
		t.Fatalf("first checkpoint: %d %s", code, resp)
	}
	verifyCosignature(t, w, l, l.checkpoint(5), resp)

	badProof := l.proof(5, 10)
	badProof[0] = bytes.Repeat([]byte{7}, 32)
	forkedRoot := log.Checkpoint{Origin: l.origin, Size: 5, Hash: [32]byte{9}}
	tests := []struct {
		name string
		body []byte
		code int
		resp string
	}{
		{"unknown origin", body(5, l.proof(5, 10), other.checkpoint(10)), 404, ""},
		{"signed by another key", body(5, l.proof(5, 10), impostor.checkpoint(10)), 403, ""},
		{"unsigned", body(5, nil, log.Checkpoint{Origin: l.origin, Size: 5, Hash: l.root(5)}.Marshal()), 403, ""},
		{"old size above checkpoint size", body(11, nil, l.checkpoint(10)), 400, ""},
		{"malformed old line", []byte("old 05\n\n" + string(l.checkpoint(10))), 400, ""},
		{"no empty line", []byte("old 5\n"), 400, ""},
		{"old size not latest", body(4, l.proof(4, 10), l.checkpoint(10)), 409, "5\n"},
		{"old size zero when latest is 5", body(0, nil, l.checkpoint(10)), 409, "5\n"},
		{"bad consistency proof", body(5, badProof, l.checkpoint(10)), 422, ""},
		{"missing consistency proof", body(5, nil, l.checkpoint(10)), 422, ""},
		{"same size other root", body(5, nil, l.sign(forkedRoot)), 422, ""},
		{"same size with a proof", body(5, l.proof(4, 5), l.checkpoint(5)), 422, ""},
		{"extends", body(5, l.proof(5, 10), l.checkpoint(10)), 200, ""},
		{"same checkpoint again", body(10, nil, l.checkpoint(10)), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, resp := post(t, w.url, tt.body)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, resp)
			}
			if code == http.StatusConflict && (ctype != "text/x.tlog.size" || string(resp) != tt.resp) {
				t.Errorf("409 with %q %q, want text/x.tlog.size %q", ctype, resp, tt.resp)
			}
			if code == http.StatusOK {
				req, _ := witness.ParseAddCheckpoint(tt.body)
				verifyCosignature(t, w, l, req.Note, resp)
			}
		})
	}

	// Statuses that need a fresh witness: from size zero.
	fresh := []struct {
		name string
		body []byte
		code int
	}{
		{"proof from size zero", body(0, l.proof(4, 10), l.checkpoint(10)), 422},
		{"empty tree with another root", body(0, nil, l.sign(empty)), 422},
		{"empty tree", body(0, nil, l.checkpoint(0)), 200},
	}
	for _, tt := range fresh {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWitness(t, witness.NewMemoryStore(), l)
			if code, _, resp := post(t, w.url, tt.body); code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, resp)
			}
		})
	}
}

func TestMethodAndBodyLimits(t *testing.T) {
	l := newTestLog(t, "example.com/log")
	w := newTestWitness(t, witness.NewMemoryStore(), l)
	r, err := http.Get(w.url + "/add-checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET add-checkpoint: %d", r.StatusCode)
	}
	huge := append([]byte("old 0\n\n"), bytes.Repeat([]byte("a"), witness.MaxBodySize)...)
	if code, _, _ := post(t, w.url, huge); code != http.StatusBadRequest {
		t.Errorf("oversized body: %d, want 400", code)
	}
	var long strings.Builder
	long.WriteString("old 1\n")
	for range witness.MaxProofLines + 1 {
		long.WriteString("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	}
	long.WriteString("\n")
	l.grow(2)
	long.Write(l.checkpoint(2))
	if code, _, _ := post(t, w.url, []byte(long.String())); code != http.StatusBadRequest {
		t.Errorf("64 proof lines: %d, want 400", code)
	}
}

func TestServeLatestCheckpoint(t *testing.T) {
	l := newTestLog(t, "example.com/log")
	l.grow(3)
	w := newTestWitness(t, witness.NewMemoryStore(), l)
	get := func() (int, []byte) {
		r, err := http.Get(fmt.Sprintf("%s/%s/checkpoint", w.url, witness.OriginHash(l.origin)))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, b
	}
	if code, _ := get(); code != http.StatusNotFound {
		t.Fatalf("before any cosignature: %d, want 404", code)
	}
	if code, _, resp := post(t, w.url, body(0, nil, l.checkpoint(3))); code != 200 {
		t.Fatalf("%d %s", code, resp)
	}
	code, got := get()
	if code != http.StatusOK {
		t.Fatalf("GET checkpoint: %d", code)
	}
	lv, _ := log.NewVerifier(l.vkey)
	cv, _ := log.NewVerifier(w.VerifierKey())
	n, err := note.Open(got, note.VerifierList(lv, cv))
	if err != nil || len(n.Sigs) != 2 || len(n.UnverifiedSigs) != 0 {
		t.Fatalf("served checkpoint %q: %v", got, err)
	}
}
