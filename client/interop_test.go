package client

import (
	"bytes"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	fproof "github.com/transparency-dev/formats/proof"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/log"
)

// checkIndependently verifies a certificate with implementations that share no
// code with Verify: transparency-dev/formats parses the tlog-proof and checks
// the cosignatures, golang.org/x/mod/sumdb checks the log's signature and the
// inclusion proof. It returns the number of valid signatures on the checkpoint.
func checkIndependently(t *testing.T, cert []byte, logVKey string, witnessVKeys []string) int {
	t.Helper()
	var p fproof.TLogProof
	if err := p.Unmarshal(cert); err != nil {
		t.Fatalf("formats/proof: %v", err)
	}
	if !bytes.Equal(p.Marshal(), cert) {
		t.Fatal("formats/proof re-encodes the certificate differently")
	}
	c, err := ParseCertificate(cert)
	if err != nil {
		t.Fatal(err)
	}
	if p.Index != c.Index || !bytes.Equal(p.Checkpoint, c.Checkpoint) || len(p.Hashes) != len(c.Hashes) {
		t.Fatalf("formats/proof reads index %d, %d hashes", p.Index, len(p.Hashes))
	}
	lv, err := note.NewVerifier(logVKey)
	if err != nil {
		t.Fatal(err)
	}
	vs := []note.Verifier{lv}
	for _, w := range witnessVKeys {
		v, err := fnote.NewVerifierForCosignatureV1(w)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open(p.Checkpoint, note.VerifierList(vs...))
	if err != nil {
		t.Fatalf("x/mod note: %v", err)
	}
	cp, err := log.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		t.Fatal(err)
	}
	rp := make(tlog.RecordProof, len(p.Hashes))
	for i, h := range p.Hashes {
		rp[i] = tlog.Hash(h)
	}
	if err := tlog.CheckRecord(rp, int64(cp.Size), tlog.Hash(cp.Hash), int64(p.Index), tlog.RecordHash(c.Entry)); err != nil {
		t.Fatalf("x/mod tlog: %v", err)
	}
	return len(n.Sigs)
}

func TestCertificateVerifiesIndependently(t *testing.T) {
	l := smallLog(t)
	c := l.cert(2, 5, testNow, 0, 1, 2)
	c.Openings = []Opening{l.opening()}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if n := checkIndependently(t, b, l.vkey, l.wvkeys); n != 4 {
		t.Fatalf("%d valid signatures, want 4", n)
	}
	// And a tlog-proof written by formats/proof parses here.
	p := fproof.TLogProof{Index: c.Index, Checkpoint: c.Checkpoint}
	pp, _ := c.Proof()
	p.ExtraData = pp.Extra
	for _, h := range c.Hashes {
		p.Hashes = append(p.Hashes, h)
	}
	c2, err := ParseCertificate(p.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(l.policy(), c2, testNow, time.Hour); err != nil {
		t.Fatal(err)
	}
}
