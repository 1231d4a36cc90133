package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Interop vectors from systems this project did not write; see
// testdata/README in /work/shared/vectors for their sources.
const (
	tesseraDir    = "testdata/tessera-log"
	tesseraOrigin = "example.com/log/testdata"
	tesseraVKey   = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
	tesseraSize   = 15

	pixelFile   = "testdata/armored-witness-pixel.txt"
	pixelOrigin = "developers.google.com/android/binary_transparency/0"
	pixelVKey   = "pixel_transparency_log+72c878db+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFPN7lzVIk2BOd3Nk33VpqqVttGwV8uChH+RX/HVfBiypVQFyh8o8Ny6fSdxNMgkSf9/VynrgADBeys0r4Q9uPA="
	breezeVKey  = "ArmoredWitness-small-breeze+7b3ada3a+AQAWYpUjfGGPQiWOgt6sLWap0P9rVOe+Ofu2uNZbO4FD"
	autumnVKey  = "ArmoredWitness-autumn-wood+863571a5+AesIVCbad7gbU07JnA6YfZD0qg4B1c8xF4ISdnt9vjip"
)

// memHashes is an in-memory tlog.HashReader over the stored hashes of a tree.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// parseEntryBundle splits a tessera entry bundle: a sequence of entries, each
// prefixed by its length as a big-endian uint16.
func parseEntryBundle(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var entries [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatalf("entry bundle: truncated length prefix")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			t.Fatalf("entry bundle: entry of %d bytes, %d left", n, len(b)-2)
		}
		entries = append(entries, b[2:2+n])
		b = b[2+n:]
	}
	return entries
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustVerifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatalf("NewVerifier(%q): %v", vkey, err)
	}
	return v
}

// tesseraCheckpoints opens checkpoint.0 … checkpoint.15 with the log's key.
func tesseraCheckpoints(t *testing.T) []Checkpoint {
	t.Helper()
	v := mustVerifier(t, tesseraVKey)
	cps := make([]Checkpoint, tesseraSize+1)
	for n := range cps {
		msg := readFile(t, filepath.Join(tesseraDir, fmt.Sprintf("checkpoint.%d", n)))
		c, _, err := OpenCheckpoint(msg, tesseraOrigin, v)
		if err != nil {
			t.Fatalf("checkpoint.%d: %v", n, err)
		}
		if c.Size != uint64(n) {
			t.Fatalf("checkpoint.%d has size %d", n, c.Size)
		}
		cps[n] = c
	}
	latest, _, err := OpenCheckpoint(readFile(t, filepath.Join(tesseraDir, "checkpoint")), tesseraOrigin, v)
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if latest != cps[tesseraSize] {
		t.Fatalf("checkpoint = %+v, want checkpoint.%d", latest, tesseraSize)
	}
	return cps
}

// tesseraEntries returns the entries of the full bundle, checking every partial
// bundle is a prefix of it.
func tesseraEntries(t *testing.T) [][]byte {
	t.Helper()
	all := parseEntryBundle(t, readFile(t, filepath.Join(tesseraDir, "tile/entries/000.p", fmt.Sprint(tesseraSize))))
	if len(all) != tesseraSize {
		t.Fatalf("bundle %d has %d entries", tesseraSize, len(all))
	}
	// The log's own spellings, as tessera's test data has them.
	words := []string{"one", "two", "three", "four", "five", "six", "seven", "eit",
		"nain", "ten", "ileven", "twelf", "threeten", "fourten", "fivten"}
	for i, e := range all {
		if string(e) != words[i] {
			t.Errorf("entry %d = %q, want %q", i, e, words[i])
		}
	}
	for n := 1; n < tesseraSize; n++ {
		part := parseEntryBundle(t, readFile(t, filepath.Join(tesseraDir, "tile/entries/000.p", fmt.Sprint(n))))
		if len(part) != n {
			t.Fatalf("bundle %d has %d entries", n, len(part))
		}
		for i := range part {
			if !bytes.Equal(part[i], all[i]) {
				t.Errorf("bundle %d entry %d = %q, want %q", n, i, part[i], all[i])
			}
		}
	}
	return all
}

// buildTree stores the hashes of a tree with the given leaf hashes, computed by tlog.
func buildTree(t *testing.T, leaves [][32]byte) memHashes {
	t.Helper()
	var m memHashes
	for i, h := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), tlog.Hash(h), m)
		if err != nil {
			t.Fatal(err)
		}
		m = append(m, hs...)
	}
	return m
}

func toBytes(hs []tlog.Hash) [][]byte {
	p := make([][]byte, len(hs))
	for i := range hs {
		p[i] = hs[i][:]
	}
	return p
}

func TestTesseraRootsFromEntries(t *testing.T) {
	cps := tesseraCheckpoints(t)
	entries := tesseraEntries(t)
	leaves := make([][32]byte, len(entries))
	for i, e := range entries {
		leaves[i] = LeafHash(e)
		if leaves[i] != tlog.RecordHash(e) {
			t.Errorf("LeafHash(%q) disagrees with tlog.RecordHash", e)
		}
	}
	tree := buildTree(t, leaves)
	if cps[0].Hash != EmptyRoot {
		t.Errorf("checkpoint.0 root = %x, want the empty root %x", cps[0].Hash, EmptyRoot)
	}
	for n := 1; n <= tesseraSize; n++ {
		root, err := tlog.TreeHash(int64(n), tree)
		if err != nil {
			t.Fatal(err)
		}
		if root != tlog.Hash(cps[n].Hash) {
			t.Errorf("size %d: root from entries %x, checkpoint has %x", n, root, cps[n].Hash)
		}
	}
}

func TestTesseraRootsFromTiles(t *testing.T) {
	cps := tesseraCheckpoints(t)
	entries := tesseraEntries(t)
	for n := 1; n <= tesseraSize; n++ {
		tile := readFile(t, filepath.Join(tesseraDir, "tile/0/000.p", fmt.Sprint(n)))
		if len(tile) != 32*n {
			t.Fatalf("tile 0/000.p/%d is %d bytes, want %d", n, len(tile), 32*n)
		}
		leaves := make([][32]byte, n)
		for i := range leaves {
			copy(leaves[i][:], tile[32*i:])
			if leaves[i] != LeafHash(entries[i]) {
				t.Errorf("tile %d hash %d is not the leaf hash of entry %q", n, i, entries[i])
			}
		}
		root, err := tlog.TreeHash(int64(n), buildTree(t, leaves))
		if err != nil {
			t.Fatal(err)
		}
		if root != tlog.Hash(cps[n].Hash) {
			t.Errorf("size %d: root from tiles %x, checkpoint has %x", n, root, cps[n].Hash)
		}
	}
}

func TestTesseraInclusionAndConsistency(t *testing.T) {
	cps := tesseraCheckpoints(t)
	entries := tesseraEntries(t)
	leaves := make([][32]byte, len(entries))
	for i, e := range entries {
		leaves[i] = LeafHash(e)
	}
	tree := buildTree(t, leaves)
	for size := 1; size <= tesseraSize; size++ {
		for i := 0; i < size; i++ {
			p, err := tlog.ProveRecord(int64(size), int64(i), tree)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(uint64(i), uint64(size), leaves[i], toBytes(p), cps[size].Hash); err != nil {
				t.Errorf("entry %d in size %d: %v", i, size, err)
			}
			// The same proof must not prove a different entry or another tree.
			other := leaves[(i+1)%len(leaves)]
			if VerifyInclusion(uint64(i), uint64(size), other, toBytes(p), cps[size].Hash) == nil {
				t.Errorf("entry %d in size %d: proof also verified for a different leaf", i, size)
			}
		}
	}
	for size1 := 0; size1 <= tesseraSize; size1++ {
		for size2 := size1; size2 <= tesseraSize; size2++ {
			var p [][]byte
			if size1 > 0 {
				tp, err := tlog.ProveTree(int64(size2), int64(size1), tree)
				if err != nil {
					t.Fatal(err)
				}
				p = toBytes(tp)
			}
			if err := VerifyConsistency(uint64(size1), uint64(size2), p, cps[size1].Hash, cps[size2].Hash); err != nil {
				t.Errorf("consistency %d → %d: %v", size1, size2, err)
			}
			if size1 > 0 && size1 < size2 {
				err := VerifyConsistency(uint64(size1), uint64(size2), p, cps[size1-1].Hash, cps[size2].Hash)
				if !errors.Is(err, ErrBadProof) {
					t.Errorf("consistency %d → %d with the wrong old root: %v, want ErrBadProof", size1, size2, err)
				}
			}
		}
	}
}

func pixelVerifiers(t *testing.T) (log, breeze, autumn note.Verifier) {
	t.Helper()
	bk, err := CosignatureVKey(breezeVKey)
	if err != nil {
		t.Fatal(err)
	}
	ak, err := CosignatureVKey(autumnVKey)
	if err != nil {
		t.Fatal(err)
	}
	return mustVerifier(t, pixelVKey), mustVerifier(t, bk), mustVerifier(t, ak)
}

func TestPixelCosignedCheckpoint(t *testing.T) {
	msg := readFile(t, pixelFile)
	logV, breeze, autumn := pixelVerifiers(t)
	if got, want := fmt.Sprintf("%08x", breeze.KeyHash()), "9d1ab951"; got != want {
		t.Errorf("small-breeze cosignature key ID = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%08x", autumn.KeyHash()), "a996f95d"; got != want {
		t.Errorf("autumn-wood cosignature key ID = %s, want %s", got, want)
	}
	c, n, err := OpenCheckpoint(msg, pixelOrigin, logV, breeze, autumn)
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	if c.Size != 611 {
		t.Errorf("size = %d, want 611", c.Size)
	}
	if len(n.UnverifiedSigs) != 0 {
		t.Errorf("unverified signatures: %v", n.UnverifiedSigs)
	}
	want := map[string]string{
		breeze.Name(): "2025-02-05T00:03:56Z",
		autumn.Name(): "2025-02-05T00:03:49Z",
	}
	got := map[string]string{}
	for _, s := range n.Sigs {
		if s.Name == logV.Name() {
			continue
		}
		ts, err := CosignatureTime(s)
		if err != nil {
			t.Errorf("CosignatureTime(%s): %v", s.Name, err)
			continue
		}
		got[s.Name] = ts.Format(time.RFC3339)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cosignature times = %v, want %v", got, want)
	}

	// Without the witness keys the cosignatures are kept, unverified.
	_, n, err = OpenCheckpoint(msg, pixelOrigin, logV)
	if err != nil {
		t.Fatalf("OpenCheckpoint with the log key only: %v", err)
	}
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 2 {
		t.Errorf("log key only: %d verified, %d unverified signatures; want 1 and 2", len(n.Sigs), len(n.UnverifiedSigs))
	}
	// Cosigned by both witnesses but not signed by the expected log key.
	_, otherKey, err := GenerateKey(logV.Name())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenCheckpoint(msg, pixelOrigin, mustVerifier(t, otherKey), breeze, autumn); !errors.Is(err, ErrUnverified) {
		t.Errorf("OpenCheckpoint with another log key: %v, want ErrUnverified", err)
	}
	if _, _, err := OpenCheckpoint(msg, "developers.google.com/other", logV); !errors.Is(err, ErrUnverified) {
		t.Errorf("OpenCheckpoint with the wrong origin: %v, want ErrUnverified", err)
	}
}

// TestPixelTamperedByteIsRefused flips bytes in every line of a real cosigned
// checkpoint: the note must be refused, or the signature on the altered line
// must not be reported as verified.
func TestPixelTamperedByteIsRefused(t *testing.T) {
	msg := readFile(t, pixelFile)
	logV, breeze, autumn := pixelVerifiers(t)
	lines := strings.SplitAfter(string(msg), "\n")
	lines = lines[:len(lines)-1]
	start := 0
	for li, line := range lines {
		if line == "\n" {
			start += len(line)
			continue
		}
		// Every position of short lines, and a spread sample plus the last few
		// characters (where base64 padding bits live) of long ones.
		var positions []int
		for p := 0; p < len(line); p++ {
			if len(line) < 64 || p%7 == 0 || p >= len(line)-6 {
				positions = append(positions, p)
			}
		}
		lineName := ""
		if rest, ok := strings.CutPrefix(line, "— "); ok {
			lineName, _, _ = strings.Cut(rest, " ")
		}
		for _, p := range positions {
			for _, mask := range []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80} {
				bad := bytes.Clone(msg)
				bad[start+p] ^= mask
				_, n, err := OpenCheckpoint(bad, pixelOrigin, logV, breeze, autumn)
				if err != nil {
					continue
				}
				if lineName == "" {
					t.Fatalf("line %d byte %d ^ %#x: body change accepted", li+1, p, mask)
				}
				for _, s := range n.Sigs {
					if s.Name == lineName && strings.Contains(string(bad[start:start+len(line)]), s.Base64) {
						t.Fatalf("line %d byte %d ^ %#x: altered signature by %s still verified", li+1, p, mask, s.Name)
					}
				}
				if len(n.Sigs) != 2 {
					t.Fatalf("line %d byte %d ^ %#x: %d signatures verified, want 2", li+1, p, mask, len(n.Sigs))
				}
			}
		}
		start += len(line)
	}
}
