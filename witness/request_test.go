package witness_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/tabularium/tabularium/witness"
)

// encode re-encodes a parsed request; a strict parser accepts only bodies that
// re-encode to themselves.
func encode(r witness.AddCheckpointRequest) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", r.OldSize)
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(r.Note)
	return b.Bytes()
}

func TestParseAddCheckpoint(t *testing.T) {
	h := "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
	cp := "example.com/log\n5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n— example.com/log AAAA\n"
	for _, tt := range []struct {
		name, body string
		ok         bool
	}{
		{"no proof", "old 0\n\n" + cp, true},
		{"proof", "old 3\n" + h + h + "\n" + cp, true},
		{"leading zero", "old 03\n\n" + cp, false},
		{"plus sign", "old +3\n\n" + cp, false},
		{"two spaces", "old  3\n\n" + cp, false},
		{"CRLF", "old 3\r\n\r\n" + cp, false},
		{"no old line", "3\n\n" + cp, false},
		{"size overflow", "old 18446744073709551616\n\n" + cp, false},
		{"size above 2^63-1", "old 9223372036854775808\n\n" + cp, false},
		{"short hash", "old 3\nAAAA\n\n" + cp, false},
		{"non-canonical base64", "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkax=\n\n" + cp, false},
		{"url base64", "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka_=\n\n" + cp, false},
		{"no empty line", "old 3\n" + h, false},
		{"no checkpoint", "old 3\n\n", false},
		{"empty", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := witness.ParseAddCheckpoint([]byte(tt.body))
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, witness.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if err == nil && !bytes.Equal(encode(r), []byte(tt.body)) {
				t.Fatalf("re-encodes to %q", encode(r))
			}
		})
	}
}

func FuzzParseAddCheckpoint(f *testing.F) {
	f.Add([]byte("old 0\n\nexample.com/log\n5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n— example.com/log AAAA\n"))
	f.Add([]byte("old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\nx\n"))
	f.Add([]byte("old 00\n\n"))
	f.Add([]byte("old 1\r\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := witness.ParseAddCheckpoint(b)
		if err != nil {
			if !errors.Is(err, witness.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(encode(r), b) {
			t.Fatalf("accepted a non-canonical body %q", b)
		}
		if len(r.Proof) > witness.MaxProofLines || len(r.Note) == 0 {
			t.Fatalf("accepted %d proof lines, %d note bytes", len(r.Proof), len(r.Note))
		}
	})
}
