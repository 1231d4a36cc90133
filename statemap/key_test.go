package statemap_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/tabularium/tabularium/statemap"
)

func TestObjectKey(t *testing.T) {
	doc := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		id   string
		doc  []byte
		want [32]byte
		err  error
	}{
		{id: "land/01:02:0003", want: refH([]byte("tabularium/statemap/v1 key\x00land/01:02:0003"))},
		{id: "batch/LOT-7", want: refH([]byte("tabularium/statemap/v1 key\x00batch/LOT-7"))},
		{id: "role/registrar/ed25519:AAAA", want: refH([]byte("tabularium/statemap/v1 key\x00role/registrar/ed25519:AAAA"))},
		{id: "key/ed25519:AAAA", want: refH([]byte("tabularium/statemap/v1 key\x00key/ed25519:AAAA"))},
		{id: "diploma/ab", doc: doc, want: refH([]byte("tabularium/statemap/v1 credential\x00diploma/ab\x00"), doc)},
		{id: "vaccination/cd", doc: doc, want: refH([]byte("tabularium/statemap/v1 credential\x00vaccination/cd\x00"), doc)},
		{id: "land/X", doc: doc, err: statemap.ErrDocHash},
		{id: "batch/X", doc: []byte{1}, err: statemap.ErrDocHash},
		{id: "diploma/ab", err: statemap.ErrDocHash},
		{id: "diploma/ab", doc: doc[:31], err: statemap.ErrDocHash},
		{id: "vaccination/ab", doc: append(doc, 0), err: statemap.ErrDocHash},
		{id: "house/1", err: statemap.ErrObjectID},
		{id: "land/", err: statemap.ErrObjectID},
		{id: "land", err: statemap.ErrObjectID},
		{id: "land/a b", err: statemap.ErrObjectID},
		{id: "land/a\x00", err: statemap.ErrObjectID},
		{id: "land/" + strings.Repeat("a", 201), err: statemap.ErrObjectID},
		{id: "", err: statemap.ErrObjectID},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			k, err := statemap.ObjectKey(tt.id, tt.doc)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ObjectKey(%q, %x) error %v, want %v", tt.id, tt.doc, err, tt.err)
			}
			if err == nil && k != tt.want {
				t.Errorf("ObjectKey(%q) = %x, want %x", tt.id, k, tt.want)
			}
		})
	}
}

func TestCredentialKeyNeedsTheDocument(t *testing.T) {
	// Whoever guesses the id but not the document cannot address the record.
	a := mustKey("diploma/ab", bytes.Repeat([]byte{1}, 32))
	b := mustKey("diploma/ab", bytes.Repeat([]byte{2}, 32))
	c := mustKey("vaccination/ab", bytes.Repeat([]byte{1}, 32))
	if a == b || a == c {
		t.Errorf("credential keys collide: %x %x %x", a, b, c)
	}
}

func TestHashes(t *testing.T) {
	k := mustKey("land/1", nil)
	rec := []byte("record")
	r := sha256.Sum256(rec)
	if got, want := statemap.LeafHash(k, rec), refH([]byte{0}, k[:], r[:]); got != want {
		t.Errorf("LeafHash = %x, want %x", got, want)
	}
	l, rr := refH([]byte("l")), refH([]byte("r"))
	if got, want := statemap.NodeHash(l, rr), refH([]byte{1}, l[:], rr[:]); got != want {
		t.Errorf("NodeHash = %x, want %x", got, want)
	}
	for _, d := range []int{256, 255, 128, 1, 0} {
		if got, want := statemap.EmptyHash(d), refEmpty(d); got != want {
			t.Errorf("EmptyHash(%d) = %x, want %x", d, got, want)
		}
	}
	if statemap.EmptyRoot != refEmpty(0) {
		t.Errorf("EmptyRoot = %x, want E[0]", statemap.EmptyRoot)
	}
}

func TestBit(t *testing.T) {
	var k statemap.Key
	k[0], k[31] = 0x80, 0x01
	for i := 0; i < 256; i++ {
		want := 0
		if i == 0 || i == 255 {
			want = 1
		}
		if got := k.Bit(i); got != want {
			t.Errorf("Bit(%d) = %d, want %d", i, got, want)
		}
	}
}
