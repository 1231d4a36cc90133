package witness_test

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/witness"
)

// testWitness is a witness served over HTTP by httptest.
type testWitness struct {
	*witness.Witness
	url   string
	store witness.Store
}

func newTestWitness(t testing.TB, store witness.Store, logs ...*testLog) *testWitness {
	t.Helper()
	skey, _, err := log.GenerateKey("witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	return startWitness(t, skey, store, logs...)
}

func startWitness(t testing.TB, skey string, store witness.Store, logs ...*testLog) *testWitness {
	t.Helper()
	cfg := witness.Config{SignerKey: skey, Store: store}
	for _, l := range logs {
		cfg.Logs = append(cfg.Logs, l.config())
	}
	w, err := witness.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	return &testWitness{Witness: w, url: srv.URL, store: store}
}

// verifyCosignature checks a 200 response body with the independent
// cosignature/v1 verifier of github.com/transparency-dev/formats/note.
func verifyCosignature(t testing.TB, w *testWitness, l *testLog, msg, resp []byte) {
	t.Helper()
	if !bytes.HasPrefix(resp, []byte("— ")) || !bytes.HasSuffix(resp, []byte("\n")) {
		t.Fatalf("response %q is not note signature lines", resp)
	}
	cv, err := fnote.NewVerifierForCosignatureV1(w.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	lv, err := log.NewVerifier(l.vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(append(append([]byte{}, msg...), resp...), note.VerifierList(lv, cv))
	if err != nil {
		t.Fatalf("checkpoint plus response does not open: %v", err)
	}
	found := false
	for _, s := range n.Sigs {
		if s.Name == cv.Name() && s.Hash == cv.KeyHash() {
			found = true
			ts, err := fnote.CoSigV1Timestamp(s)
			if err != nil || ts.Unix() <= 0 || time.Since(ts) > time.Hour {
				t.Errorf("cosignature timestamp %v, %v", ts, err)
			}
		}
	}
	if !found {
		t.Fatalf("no verified cosignature in %q", resp)
	}
}

// stored returns the witness's stored note for l.
func (w *testWitness) stored(t testing.TB, l *testLog) []byte {
	t.Helper()
	b, err := w.store.Load(t.Context(), l.origin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
