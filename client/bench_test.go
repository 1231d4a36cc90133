package client

import (
	"testing"
	"time"
)

// BenchmarkVerifyCertificate parses and verifies a certificate of an entry in
// a small log, cosigned by three witnesses under a 2-of-3 policy, with one
// document opening.
func BenchmarkVerifyCertificate(b *testing.B) {
	l := smallLog(b)
	c := l.cert(2, 5, testNow, 0, 1, 2)
	c.Openings = []Opening{l.opening()}
	text, err := c.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	p := l.policy()
	b.ReportMetric(float64(len(text)), "cert-bytes")
	b.ResetTimer()
	for b.Loop() {
		c, err := ParseCertificate(text)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Verify(p, c, testNow, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
