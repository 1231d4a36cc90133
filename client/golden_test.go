package client

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
)

// The files in testdata were written by a real tabularium server whose land
// log was cosigned by three witnesses under a 2-of-3 policy (see
// TestProofEndpointIssuesVerifiableCertificates in cmd/tabularium, run with
// TABULARIUM_WRITE_GOLDEN=1). The certificate carries the opening of the
// entry's deed.
func goldenCert(t testing.TB) ([]byte, *log.Policy, time.Time) {
	t.Helper()
	cert, err := os.ReadFile("testdata/land.tlog-proof")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := os.ReadFile("testdata/land.policy")
	if err != nil {
		t.Fatal(err)
	}
	p, err := log.ParsePolicy(pt)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCertificate(cert)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(p, c, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// "Now" for the tests: a minute after the latest cosignature.
	var now time.Time
	for _, c := range s.Cosignatures {
		if c.Time.After(now) {
			now = c.Time
		}
	}
	return cert, p, now.Add(time.Minute)
}

func TestGoldenCertificateVerifiesOffline(t *testing.T) {
	cert, p, now := goldenCert(t)
	c, _ := ParseCertificate(cert)
	s, err := Verify(p, c, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin != "tabularium.local/land" || s.Type != "land.register" || s.Object != "land/parcel-17" ||
		len(s.Signers) != 2 || len(s.Cosignatures) < 2 || len(s.Opened) != 1 || s.Opened[0].Kind != "deed" {
		t.Fatalf("summary %+v", s)
	}
	t.Logf("certificate of %d bytes:\n%s", len(cert), s)
	// It predates role grants: it verifies with its roles not proven, and is
	// refused by a verifier that names the log's root keys.
	if s.Roles != RolesNotProven {
		t.Fatalf("roles: %q", s.Roles)
	}
	root, _ := entry.GenerateKey(entry.KeyEd25519)
	if _, err := VerifyWithRoots(p, Roots{s.Origin: {root.Public}}, c, now, time.Hour); !errors.Is(err, ErrRole) {
		t.Fatalf("with roots: %v", err)
	}
	// Two hours later, with a maximum age of one hour, the cosignatures are stale.
	if _, err := Verify(p, c, now.Add(2*time.Hour), time.Hour); !errors.Is(err, ErrStaleCosignatures) {
		t.Fatalf("stale: %v", err)
	}
	// Under a policy needing all three witnesses plus one the log never had, too few.
	_, extra, _ := log.GenerateKey("w3.witness.example")
	cv, _ := log.CosignatureVKey(extra)
	pt, _ := os.ReadFile("testdata/land.policy")
	strict := strings.Replace(string(pt), "group two-of-three 2 w0 w1 w2", "witness w3 "+cv+"\ngroup two-of-three all w0 w1 w2 w3", 1)
	p4, err := log.ParsePolicy([]byte(strict))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(p4, c, now, time.Hour); !errors.Is(err, ErrTooFewCosignatures) {
		t.Fatalf("four of four: %v", err)
	}
}

func TestGoldenCertificateVerifiesIndependently(t *testing.T) {
	cert, p, _ := goldenCert(t)
	var ws []string
	for _, w := range p.Witnesses {
		ws = append(ws, w.VKey)
	}
	if n := checkIndependently(t, cert, p.Logs[0].VKey, ws); n < 3 {
		t.Fatalf("%d valid signatures, want 4", n)
	}
}

// TestGoldenCertificateAnyFlippedBitFails flips every bit of the real
// certificate in turn; no variant verifies.
func TestGoldenCertificateAnyFlippedBitFails(t *testing.T) {
	cert, p, now := goldenCert(t)
	step := 1
	if testing.Short() {
		step = 7
	}
	reasons := map[string]int{}
	for i := 0; i < len(cert); i += step {
		for bit := 0; bit < 8; bit++ {
			m := bytes.Clone(cert)
			m[i] ^= 1 << bit
			c, err := ParseCertificate(m)
			if err == nil {
				_, err = Verify(p, c, now, time.Hour)
			}
			if err == nil {
				t.Fatalf("flipping bit %d of byte %d (%q) was accepted", bit, i, cert[i])
			}
			for _, r := range allReasons {
				if errors.Is(err, r) {
					reasons[r.Error()]++
				}
			}
		}
	}
	t.Logf("%d bytes; refusals by reason: %v", len(cert), reasons)
}
