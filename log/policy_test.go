package log

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func cosigKey(t *testing.T, vkey string) string {
	t.Helper()
	k, err := CosignatureVKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPolicyAcceptsProductionWitnesses verifies the real Pixel checkpoint under a
// policy requiring both Armored Witness devices, and refuses it under maxAge.
func TestPolicyAcceptsProductionWitnesses(t *testing.T) {
	msg, err := os.ReadFile("testdata/armored-witness-pixel.txt")
	if err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf("log %s\nwitness breeze %s\nwitness wood %s https://witness.example/\ngroup both all breeze wood\nquorum both\n",
		pixelVKey,
		cosigKey(t, "ArmoredWitness-small-breeze+7b3ada3a+AQAWYpUjfGGPQiWOgt6sLWap0P9rVOe+Ofu2uNZbO4FD"),
		cosigKey(t, "ArmoredWitness-autumn-wood+863571a5+AesIVCbad7gbU07JnA6YfZD0qg4B1c8xF4ISdnt9vjip"))
	p, err := ParsePolicy([]byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2025, 2, 5, 1, 0, 0, 0, time.UTC)
	c, cosigs, err := p.VerifyCheckpoint(msg, pixelOrigin, when, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Size != 611 || len(cosigs) != 2 {
		t.Fatalf("size %d, cosignatures %+v", c.Size, cosigs)
	}
	if _, _, err := p.VerifyCheckpoint(msg, pixelOrigin, when, 30*time.Minute); !errors.Is(err, ErrQuorum) {
		t.Fatalf("cosignatures an hour old under a 30-minute limit: %v, want ErrQuorum", err)
	}
	if _, _, err := p.VerifyCheckpoint(msg, "other.example/log", when, 0); !errors.Is(err, ErrUnverified) {
		t.Fatalf("wrong origin: %v", err)
	}
	p.Logs = append(p.Logs, p.Logs[0])
	if _, _, err := p.VerifyCheckpoint(msg, "other.example/log", when, 0); !errors.Is(err, ErrUnverified) {
		t.Fatalf("unknown origin: %v", err)
	}
}

// testWitnesses makes n witness keys and cosigners with a fixed clock.
func testWitnesses(t *testing.T, n int, now time.Time) ([]string, []*Cosigner) {
	var vkeys []string
	var signers []*Cosigner
	for i := 0; i < n; i++ {
		skey, vkey, err := GenerateKey(fmt.Sprintf("witness%d.example", i))
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewCosigner(skey, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		vkeys = append(vkeys, cosigKey(t, vkey))
		signers = append(signers, c)
	}
	return vkeys, signers
}

func TestPolicyQuorum(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	skey, vkey, _ := GenerateKey("example.com/log")
	logSigner, _ := NewSigner(skey)
	wv, ws := testWitnesses(t, 3, now.Add(-time.Minute))
	_, oldSigners := testWitnesses(t, 1, now.Add(-48*time.Hour))
	p, err := ParsePolicy([]byte(fmt.Sprintf("log %s\nwitness a %s\nwitness b %s\nwitness c %s\ngroup two 2 a b c\nquorum two\n", vkey, wv[0], wv[1], wv[2])))
	if err != nil {
		t.Fatal(err)
	}
	body := Checkpoint{Origin: "example.com/log", Size: 3, Hash: EmptyRoot}.Marshal()
	sign := func(signers ...note.Signer) []byte {
		msg, err := note.Sign(&note.Note{Text: string(body)}, append([]note.Signer{logSigner}, signers...)...)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	for name, tc := range map[string]struct {
		msg  []byte
		want error
	}{
		"two of three":            {sign(ws[0], ws[2]), nil},
		"three of three":          {sign(ws[0], ws[1], ws[2]), nil},
		"one of three":            {sign(ws[1]), ErrQuorum},
		"none":                    {sign(), ErrQuorum},
		"unknown witness ignored": {sign(ws[0], oldSigners[0]), ErrQuorum},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := p.VerifyCheckpoint(tc.msg, "example.com/log", now, time.Hour)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Stale: the same witnesses, but a day ago.
	stale := testWitnessesFrom(t, ws, now.Add(-24*time.Hour))
	if _, _, err := p.VerifyCheckpoint(sign(stale...), "example.com/log", now, time.Hour); !errors.Is(err, ErrQuorum) || !strings.Contains(err.Error(), "too old") {
		t.Fatalf("stale cosignatures: %v", err)
	}
	none, err := ParsePolicy([]byte("log " + vkey + "\nquorum none\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := none.VerifyCheckpoint(sign(), "example.com/log", now, time.Hour); err != nil {
		t.Fatalf("quorum none: %v", err)
	}
}

// testWitnessesFrom returns the signers ws with their clocks set to at.
func testWitnessesFrom(t *testing.T, ws []*Cosigner, at time.Time) []note.Signer {
	var out []note.Signer
	for _, w := range ws {
		c := *w
		c.now = func() time.Time { return at }
		out = append(out, &c)
	}
	return out
}

func TestParsePolicyRefusals(t *testing.T) {
	_, vkey, _ := GenerateKey("example.com/log")
	_, wkey, _ := GenerateKey("w.example")
	w := cosigKey(t, wkey)
	_, w2key, _ := GenerateKey("w2.example")
	w2 := cosigKey(t, w2key)
	bad := map[string]string{
		"no quorum":            "log " + vkey + "\n",
		"two quorums":          "quorum none\nquorum none\n",
		"unknown keyword":      "logs " + vkey + "\nquorum none\n",
		"witness with 0x01":    "witness a " + wkey + "\nquorum a\n",
		"log with 0x04":        "log " + w + "\nquorum none\n",
		"duplicate name":       "witness a " + w + "\nwitness a " + w2 + "\nquorum a\n",
		"duplicate key":        "witness a " + w + "\nwitness b " + w + "\nquorum a\n",
		"reserved name":        "witness none " + w + "\nquorum none\n",
		"forward reference":    "group g any a\nwitness a " + w + "\nquorum g\n",
		"member twice":         "witness a " + w + "\ngroup g 1 a a\nquorum g\n",
		"threshold too high":   "witness a " + w + "\ngroup g 2 a\nquorum g\n",
		"threshold zero":       "witness a " + w + "\ngroup g 0 a\nquorum g\n",
		"threshold not canon":  "witness a " + w + "\ngroup g 01 a\nquorum g\n",
		"empty group":          "group g any\nquorum g\n",
		"undefined quorum":     "quorum g\n",
		"bad url":              "witness a " + w + " ftp://x\nquorum a\n",
		"control character":    "witness a " + w + "\r\nquorum a\n",
		"bad key hash":         "witness a " + w[:len(w)-50] + "x" + w[len(w)-49:] + "\nquorum a\n",
		"too many fields":      "witness a " + w + " http://x/ extra\nquorum a\n",
		"quorum with two args": "quorum a b\n",
	}
	for name, text := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePolicy([]byte(text)); !errors.Is(err, ErrBadPolicy) && !errors.Is(err, ErrBadKey) {
				t.Fatalf("ParsePolicy accepted or misreported %q: %v", text, err)
			}
		})
	}
	good := "# comment\n\t log " + vkey + " https://log.example/\n\nwitness a " + w + " http://127.0.0.1:1/\nwitness b " + w2 + "\ngroup g any a b\nquorum g\n"
	p, err := ParsePolicy([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Logs) != 1 || p.Logs[0].URL != "https://log.example/" || len(p.Witnesses) != 2 || p.Witnesses[0].URL != "http://127.0.0.1:1/" {
		t.Fatalf("parsed %+v", p)
	}
}

// FuzzParsePolicy checks that no policy text makes the parser panic.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("quorum none\n"))
	f.Add([]byte("witness a x+00000000+BA==\ngroup g any a\nquorum g\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err == nil && p == nil {
			t.Fatal("nil policy without error")
		}
	})
}
