package statemap_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tabularium/tabularium/statemap"
)

const goodEntry = "tabularium.state/v1\n" +
	"registry.example.gov/land\n" +
	"42\n" +
	"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" +
	"rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n" +
	"17\n"

func TestParseEntry(t *testing.T) {
	e, err := statemap.ParseEntry([]byte(goodEntry))
	if err != nil {
		t.Fatal(err)
	}
	if e.Origin != "registry.example.gov/land" || e.Size != 42 || e.Objects != 17 || e.Hash[0] != 0xe3 || e.Root[0] != 0xac {
		t.Errorf("ParseEntry = %+v", e)
	}
	if got := string(e.Marshal()); got != goodEntry {
		t.Errorf("Marshal = %q, want %q", got, goodEntry)
	}
	zero := statemap.Entry{Origin: "o", Hash: statemap.EmptyRoot, Root: statemap.EmptyRoot}
	if back, err := statemap.ParseEntry(zero.Marshal()); err != nil || back != zero {
		t.Errorf("round trip of %+v: %+v, %v", zero, back, err)
	}
}

func TestParseEntryIsStrict(t *testing.T) {
	lines := strings.SplitAfter(goodEntry, "\n")
	with := func(i int, s string) string {
		l := append([]string(nil), lines...)
		l[i] = s
		return strings.Join(l, "")
	}
	tests := map[string]string{
		"empty":                  "",
		"no final newline":       strings.TrimSuffix(goodEntry, "\n"),
		"extra line":             goodEntry + "x\n",
		"blank line at the end":  goodEntry + "\n",
		"five lines":             strings.Join(lines[:5], ""),
		"CRLF":                   strings.ReplaceAll(goodEntry, "\n", "\r\n"),
		"other header":           with(0, "tabularium.state/v2\n"),
		"empty origin":           with(1, "\n"),
		"origin with a space":    with(1, "registry example\n"),
		"origin with a tab":      with(1, "registry\texample\n"),
		"origin with NBSP":       with(1, "registry\u00a0example\n"),
		"origin not UTF-8":       with(1, "registry\xff\n"),
		"leading zero":           with(2, "042\n"),
		"plus sign":              with(2, "+42\n"),
		"negative":               with(2, "-1\n"),
		"size over 2^63-1":       with(2, "9223372036854775808\n"),
		"empty size":             with(2, "\n"),
		"short hash":             with(3, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA==\n"),
		"URL base64":             with(3, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=\n"),
		"unpadded":               with(4, "rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs\n"),
		"non-canonical padding":  with(4, "rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383ct=\n"),
		"objects leading zero":   with(5, "017\n"),
		"objects with a space":   with(5, "17 \n"),
		"too long":               strings.Replace(goodEntry, "land", strings.Repeat("l", statemap.MaxEntrySize), 1),
		"hash with a space":      with(3, " 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"),
		"header with a trailing": with(0, "tabularium.state/v1 \n"),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := statemap.ParseEntry([]byte(b)); !errors.Is(err, statemap.ErrMalformedEntry) {
				t.Errorf("ParseEntry(%q): %v, want ErrMalformedEntry", b, err)
			}
		})
	}
}

func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(goodEntry))
	f.Add([]byte("tabularium.state/v1\no\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := statemap.ParseEntry(b)
		if err != nil {
			if !errors.Is(err, statemap.ErrMalformedEntry) {
				t.Fatalf("error %v is not ErrMalformedEntry", err)
			}
			return
		}
		if !bytes.Equal(e.Marshal(), b) {
			t.Fatalf("Marshal(ParseEntry(%q)) = %q", b, e.Marshal())
		}
	})
}
