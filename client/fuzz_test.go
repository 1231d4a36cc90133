package client

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParseCertificate checks that the parser never panics, accepts only
// canonical text (what it accepts re-encodes to the same bytes), and that
// no mutation of the valid certificates verifies.
func FuzzParseCertificate(f *testing.F) {
	l := smallLog(f)
	c := l.cert(2, 5, testNow, 0, 1, 2)
	c.Openings = []Opening{l.opening()}
	good, err := c.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	c.Openings = nil
	b, _ := c.Marshal()
	f.Add(b)
	valid := map[string]bool{string(good): true, string(b): true}
	f.Add([]byte(ProofHeader + "\nindex 0\n\n"))
	p := l.policy()
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCertificate(b)
		if err != nil {
			return
		}
		re, err := c.Marshal()
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("accepted text is not canonical:\n%q\n%q", b, re)
		}
		if _, err := Verify(p, c, testNow, time.Hour); err == nil && !valid[string(b)] {
			t.Fatalf("a certificate other than the good one verifies:\n%q", b)
		}
	})
}

// FuzzParseProof checks the generic tlog-proof parser the same way.
func FuzzParseProof(f *testing.F) {
	l := smallLog(f)
	b, _ := l.cert(2, 5, testNow, 0, 1).Marshal()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			return
		}
		if re := p.Marshal(); !bytes.Equal(re, b) {
			t.Fatalf("accepted text is not canonical:\n%q\n%q", b, re)
		}
	})
}
