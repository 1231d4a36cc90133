package client

import (
	"testing"
	"time"
)

// BenchmarkVerifyCertificate parses and verifies the real certificate in
// testdata: an entry with two signers (Ed25519 and P-256) in a log of five
// entries, cosigned by three witnesses under a 2-of-3 policy, with one
// document opening.
func BenchmarkVerifyCertificate(b *testing.B) {
	text, p, testNow := goldenCert(b)
	for b.Loop() {
		c, err := ParseCertificate(text)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Verify(p, c, testNow, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(text)), "cert-bytes")
}
