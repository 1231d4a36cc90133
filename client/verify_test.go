package client

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
)

var testNow = time.Unix(1750000000, 0)

// smallLog has five entries; certificates are of entry 2 in the tree of 5.
func smallLog(t testing.TB) *testLog {
	l := newTestLog(t)
	for i := 0; i < 5; i++ {
		l.addEntry("land/parcel-" + string(rune('a'+i)))
	}
	return l
}

func (l *testLog) opening() Opening {
	return Opening{Doc: 0, Salt: l.docSalt, Contents: l.docText}
}

func TestVerifyCertificate(t *testing.T) {
	l := smallLog(t)
	c := l.cert(2, 5, testNow.Add(-time.Minute), 0, 1, 2)
	c.Openings = []Opening{l.opening()}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(l.policy(), c2, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin != testOrigin || s.Index != 2 || s.Type != entry.TypeLandRegister || s.Object != "land/parcel-c" ||
		len(s.Signers) != 1 || s.Signers[0] != l.signerKey.Public || s.Checkpoint.Size != 5 ||
		len(s.Cosignatures) != 3 || len(s.Opened) != 1 || s.Opened[0].Kind != "deed" {
		t.Fatalf("summary = %+v", s)
	}
	if !strings.Contains(s.String(), "witnessed:  by w1") {
		t.Fatalf("summary text:\n%s", s)
	}
}

// TestTamperingRefusedWithItsOwnReason changes one part of a valid
// certificate at a time; each change is refused with the reason naming it.
func TestTamperingRefusedWithItsOwnReason(t *testing.T) {
	l := smallLog(t)
	good := func() *Certificate {
		c := l.cert(2, 5, testNow.Add(-time.Minute), 0, 1, 2)
		c.Openings = []Opening{l.opening()}
		return c
	}
	replaceLine := func(msg []byte, prefix string, f func(string) string) []byte {
		lines := strings.SplitAfter(string(msg), "\n")
		for i, ln := range lines {
			if strings.HasPrefix(ln, prefix) {
				lines[i] = f(ln)
				return []byte(strings.Join(lines, ""))
			}
		}
		t.Fatalf("no line %q", prefix)
		return nil
	}
	flipSig := func(ln string) string {
		name, sig, _ := strings.Cut(strings.TrimSuffix(ln, "\n"), " ")
		_, sig, _ = strings.Cut(sig, " ")
		raw, _ := base64.StdEncoding.DecodeString(sig)
		raw[len(raw)-1] ^= 1
		return strings.Join([]string{name, strings.Fields(ln)[1], base64.StdEncoding.EncodeToString(raw)}, " ") + "\n"
	}
	other := newTestLog(t)
	for _, tc := range []struct {
		name   string
		tamper func(c *Certificate)
		policy *log.Policy
		want   error
	}{
		{"entry byte", func(c *Certificate) {
			c.Entry = bytes.Clone(c.Entry)
			i := bytes.Index(c.Entry, []byte("parcel-c"))
			c.Entry[i] = 'P'
		}, nil, ErrEntry},
		{"entry swapped for another logged entry", func(c *Certificate) { c.Entry = l.entries[3] }, nil, ErrInclusion},
		{"proof hash", func(c *Certificate) { c.Hashes[1][0] ^= 1 }, nil, ErrInclusion},
		{"proof hash dropped", func(c *Certificate) { c.Hashes = c.Hashes[1:] }, nil, ErrInclusion},
		{"index", func(c *Certificate) { c.Index = 3 }, nil, ErrInclusion},
		{"index beyond the tree", func(c *Certificate) { c.Index = 5 }, nil, ErrInclusion},
		{"checkpoint size line", func(c *Certificate) {
			c.Checkpoint = replaceLine(c.Checkpoint, "5\n", func(string) string { return "6\n" })
		}, nil, ErrLogSignature},
		{"checkpoint root line", func(c *Certificate) {
			root := l.root(5)
			c.Checkpoint = replaceLine(c.Checkpoint, base64.StdEncoding.EncodeToString(root[:]), func(string) string {
				return base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
			})
		}, nil, ErrLogSignature},
		{"log signature", func(c *Certificate) {
			c.Checkpoint = replaceLine(c.Checkpoint, "— "+testOrigin+" ", flipSig)
		}, nil, ErrLogSignature},
		{"cosignature", func(c *Certificate) {
			c.Checkpoint = replaceLine(c.Checkpoint, "— w1.witness.test ", flipSig)
		}, nil, ErrBadCosignature},
		{"cosignature by a witness not in the policy", func(c *Certificate) {
			extra := other.checkpoint(0, testNow, 0) // other's w0 has another key
			sig := extra[bytes.LastIndex(extra, []byte("— w0")):]
			c.Checkpoint = append(bytes.Clone(c.Checkpoint), sig...)
		}, nil, ErrUnknownSignature},
		{"signature line repeated", func(c *Certificate) {
			i := bytes.Index(c.Checkpoint, []byte("— w1"))
			j := i + bytes.IndexByte(c.Checkpoint[i:], '\n') + 1
			c.Checkpoint = append(bytes.Clone(c.Checkpoint), c.Checkpoint[i:j]...)
		}, nil, ErrMalformedCertificate},
		{"opening contents", func(c *Certificate) { c.Openings[0].Contents = []byte("deed of parcel 8") }, nil, ErrOpening},
		{"opening salt", func(c *Certificate) { c.Openings[0].Salt = []byte("another salt") }, nil, ErrOpening},
		{"opening of a document the entry lacks", func(c *Certificate) { c.Openings[0].Doc = 1 }, nil, ErrOpening},
		{"policy of other logs", func(c *Certificate) {}, twoOtherLogs(t), ErrUnknownLog},
		{"policy with another key for the log", func(c *Certificate) {}, other.policy(), ErrLogSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.tamper(c)
			p := tc.policy
			if p == nil {
				p = l.policy()
			}
			b, err := c.Marshal()
			if err == nil {
				c, err = ParseCertificate(b)
			}
			if err == nil {
				_, err = Verify(p, c, testNow, time.Hour)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, r := range allReasons {
				if r != tc.want && errors.Is(err, r) {
					t.Fatalf("err = %v is also %v", err, r)
				}
			}
		})
	}
}

func twoOtherLogs(t *testing.T) *log.Policy {
	_, v1, _ := log.GenerateKey("tabularium.test/diplomas")
	_, v2, _ := log.GenerateKey("tabularium.test/vaccinations")
	p, err := log.ParsePolicy([]byte("log " + v1 + "\nlog " + v2 + "\nquorum none\n"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var allReasons = []error{ErrMalformedCertificate, ErrUnknownLog, ErrLogSignature, ErrBadCosignature, ErrUnknownSignature,
	ErrTooFewCosignatures, ErrStaleCosignatures, ErrEntry, ErrWrongLog, ErrInclusion, ErrOpening, ErrGrant, ErrRole}

func TestEntryForAnotherLogRefused(t *testing.T) {
	l := smallLog(t)
	p := &entry.Payload{Log: "tabularium.test/diplomas", Type: entry.TypeLandRegister, Object: "land/x", Time: 1700000000,
		Fields: &entry.OwnersFields{Owners: []entry.Share{{Key: l.signerKey.Public, Share: "1"}}}}
	raw, err := entry.New(p, l.signerKey)
	if err != nil {
		t.Fatal(err)
	}
	l.add(raw)
	c := l.cert(5, 6, testNow, 0, 1)
	if _, err := Verify(l.policy(), c, testNow, time.Hour); !errors.Is(err, ErrWrongLog) {
		t.Fatalf("err = %v", err)
	}
}

func TestTooFewCosignaturesRefused(t *testing.T) {
	l := smallLog(t)
	for _, w := range [][]int{nil, {0}, {2}} {
		c := l.cert(2, 5, testNow, w...)
		if _, err := Verify(l.policy(), c, testNow, time.Hour); !errors.Is(err, ErrTooFewCosignatures) {
			t.Fatalf("cosigned by %v: err = %v", w, err)
		}
	}
	if _, err := Verify(l.policy(), l.cert(2, 5, testNow, 0, 2), testNow, time.Hour); err != nil {
		t.Fatalf("two of three: %v", err)
	}
}

func TestStaleCosignaturesRefused(t *testing.T) {
	l := smallLog(t)
	c := l.cert(2, 5, testNow.Add(-2*time.Hour), 0, 1, 2)
	if _, err := Verify(l.policy(), c, testNow, time.Hour); !errors.Is(err, ErrStaleCosignatures) {
		t.Fatalf("err = %v", err)
	}
	// Without a maximum age, an old certificate still proves the entry.
	if _, err := Verify(l.policy(), c, testNow, 0); err != nil {
		t.Fatal(err)
	}
	// Cosignatures from the future do not count either.
	c = l.cert(2, 5, testNow.Add(time.Hour), 0, 1, 2)
	if _, err := Verify(l.policy(), c, testNow, 0); !errors.Is(err, ErrTooFewCosignatures) {
		t.Fatalf("future: err = %v", err)
	}
}

// TestOneFlippedByteAnywhereFails flips each bit of every byte of a small
// certificate, and of one carrying a chain of role grants, in turn: none of
// the results is accepted.
func TestOneFlippedByteAnywhereFails(t *testing.T) {
	l := smallLog(t)
	c := l.cert(2, 5, testNow, 0, 1, 2)
	c.Openings = []Opening{l.opening()}
	rl := newRoleLog(t)
	for _, tc := range []struct {
		name  string
		c     *Certificate
		p     *log.Policy
		roots Roots
	}{
		{"plain", c, l.policy(), nil},
		{"with role grants", rl.diploma(0, 1), rl.policy(), rl.roots()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := VerifyWithRoots(tc.p, tc.roots, tc.c, testNow, time.Hour); err != nil {
				t.Fatal(err)
			}
			bits := []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80}
			if testing.Short() {
				bits = bits[:2]
			}
			reasons := map[string]int{}
			for i := range b {
				for _, bit := range bits {
					m := bytes.Clone(b)
					m[i] ^= bit
					c, err := ParseCertificate(m)
					if err == nil {
						_, err = VerifyWithRoots(tc.p, tc.roots, c, testNow, time.Hour)
					}
					if err == nil {
						t.Fatalf("flipping bit %#x of byte %d (%q) was accepted", bit, i, b[i])
					}
					for _, r := range allReasons {
						if errors.Is(err, r) {
							reasons[r.Error()]++
						}
					}
				}
			}
			t.Logf("certificate of %d bytes; %d flips refused, by reason: %v", len(b), len(b)*len(bits), reasons)
		})
	}
}

func TestParseRefusesNonCanonical(t *testing.T) {
	l := smallLog(t)
	c := l.cert(2, 5, testNow, 0, 1)
	b, _ := c.Marshal()
	for name, m := range map[string][]byte{
		"leading zero index": bytes.Replace(b, []byte("index 2\n"), []byte("index 02\n"), 1),
		"no header":          b[len(ProofHeader)+1:],
		"CRLF":               bytes.Replace(b, []byte("\n"), []byte("\r\n"), 1),
		"empty extra":        bytes.Replace(b, []byte("extra "), []byte("extra \nextra "), 1),
		"trailing data":      append(bytes.Clone(b), "x"...),
		"no extra":           append([]byte(ProofHeader+"\n"), b[bytes.Index(b, []byte("index")):]...),
		"too large":          append(bytes.Clone(b), make([]byte, MaxProofSize)...),
	} {
		if _, err := ParseCertificate(m); !errors.Is(err, ErrMalformedCertificate) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
