package client

import (
	"crypto/rand"
	"fmt"
	"math/bits"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
)

// BenchmarkCertificateSizeAtTenMillion reports the size of a certificate for the
// first entry of a 10,000,000-entry log (the longest proof such a tree has), cosigned by three witnesses: the golden
// land entry (two signatures and one opened deed) with an inclusion proof of the
// length such a tree needs, under a checkpoint signed by a log key and three
// cosignature/v1 keys. The proof hashes are random: only their number matters for
// the size, and it is exact.
func BenchmarkCertificateSizeAtTenMillion(b *testing.B) {
	const size = 10_000_000
	text, _, _ := goldenCert(b)
	golden, err := ParseCertificate(text)
	if err != nil {
		b.Fatal(err)
	}
	// RFC 6962 inclusion proof length for leaf m of a tree of n leaves: the
	// inner part below the split, then the border hashes on the right.
	const m, n = 0, size
	inner := bits.Len64(m ^ (n - 1))
	hashes := make([][32]byte, inner+bits.OnesCount64(m>>inner))
	for i := range hashes {
		_, _ = rand.Read(hashes[i][:])
	}
	skey, _, _ := log.GenerateKey("registry.example.gov/land")
	logSigner, _ := log.NewSigner(skey)
	signers := []note.Signer{logSigner}
	for i := 0; i < 3; i++ {
		wkey, _, _ := log.GenerateKey(fmt.Sprintf("witness-%d.example.org", i))
		w, err := log.NewCosigner(wkey, time.Now)
		if err != nil {
			b.Fatal(err)
		}
		signers = append(signers, w)
	}
	var root [32]byte
	_, _ = rand.Read(root[:])
	body := log.Checkpoint{Origin: "registry.example.gov/land", Size: size, Hash: root}.Marshal()
	cp, err := note.Sign(&note.Note{Text: string(body)}, signers...)
	if err != nil {
		b.Fatal(err)
	}
	c := &Certificate{Entry: golden.Entry, Openings: golden.Openings, Index: 0, Hashes: hashes, Checkpoint: cp}
	var out []byte
	for b.Loop() {
		if out, err = c.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
	withoutOpenings := *c
	withoutOpenings.Openings = nil
	bare, err := withoutOpenings.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(out)), "cert-bytes")
	b.ReportMetric(float64(len(bare)), "cert-bytes-no-opening")
	b.ReportMetric(float64(len(hashes)), "proof-hashes")
}
