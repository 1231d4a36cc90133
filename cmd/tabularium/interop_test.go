package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// httpTileReader fetches c2sp.org/tlog-tiles tiles for golang.org/x/mod/sumdb/tlog,
// an implementation independent of tessera and of this project. x/mod paths carry
// the tile height, tlog-tiles paths do not: the height is always 8.
type httpTileReader struct {
	t    *testing.T
	base string
}

func (r httpTileReader) Height() int { return 8 }

func (r httpTileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		p := strings.TrimPrefix(tile.Path(), "tile/8/")
		b, err := get(r.base + "tile/" + p)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (r httpTileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// TestIndependentVerification serves a log of a few thousand entries (full level-0
// tiles, a level-1 tile, partial tiles) over real HTTP and verifies it with
// golang.org/x/mod/sumdb: note for the checkpoint signature, tlog for the tree hash
// computed from the served tiles, and record proofs for sampled entries whose data
// comes from the served entry bundles.
func TestIndependentVerification(t *testing.T) {
	const n = 3000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := DefaultConfig(t.TempDir())
	for i := range cfg.Logs {
		cfg.Logs[i].CheckpointInterval = 200 * time.Millisecond
		cfg.Logs[i].BatchMaxAge = 10 * time.Millisecond
	}
	s, err := openServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(context.Background())
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	land := s.logs[0].log

	entries := make([][]byte, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range entries {
		entries[i] = []byte(fmt.Sprintf("registry entry %d", i))
	}
	idx := make([]uint64, n)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				got, err := land.Add(ctx, entries[i])
				if err != nil {
					errs <- err
					return
				}
				idx[i] = got.Index
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	actx, acancel := context.WithTimeout(ctx, 30*time.Second)
	defer acancel()
	if _, err := land.AwaitPublished(actx, n-1); err != nil {
		t.Fatal(err)
	}

	base := srv.URL + "/logs/land/"
	cpRaw, err := get(base + "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(land.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	nt, err := note.Open(cpRaw, note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("x/mod note rejects the checkpoint: %v", err)
	}
	lines := strings.Split(nt.Text, "\n")
	var size int64
	fmt.Sscanf(lines[1], "%d", &size)
	if lines[0] != "tabularium.local/land" || size != n {
		t.Fatalf("checkpoint origin %q size %d, want tabularium.local/land %d", lines[0], size, n)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, httpTileReader{t: t, base: base})
	got, err := tlog.TreeHash(size, hr)
	if err != nil {
		t.Fatalf("x/mod tlog cannot compute the tree hash from the served tiles: %v", err)
	}
	if got != root {
		t.Fatalf("tree hash from tiles %v != checkpoint root %v", got, root)
	}

	// Every entry in the served bundles is the entry acknowledged at its index.
	bundles := map[int64][]byte{}
	for i := range entries {
		want := entries[i]
		at := int64(idx[i])
		b := at / 256
		if bundles[b] == nil {
			path := fmt.Sprintf("tile/entries/%s", tlog.Tile{H: 8, L: 0, N: b, W: 256}.Path()[len("tile/8/0/"):])
			if (b+1)*256 > size {
				path = fmt.Sprintf("tile/entries/%s", tlog.Tile{H: 8, L: 0, N: b, W: int(size - b*256)}.Path()[len("tile/8/0/"):])
			}
			raw, err := get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			bundles[b] = raw
		}
		data := bundleEntry(t, bundles[b], int(at%256))
		if !bytes.Equal(data, want) {
			t.Fatalf("entry at %d is %q, want %q", at, data, want)
		}
		if i%97 != 0 && i != n-1 {
			continue
		}
		p, err := tlog.ProveRecord(size, at, hr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, size, root, at, tlog.RecordHash(data)); err != nil {
			t.Fatalf("x/mod tlog rejects the record proof of entry %d: %v", at, err)
		}
	}
}

// bundleEntry returns entry i of a tlog-tiles entry bundle (uint16 length-prefixed).
func bundleEntry(t *testing.T, bundle []byte, i int) []byte {
	t.Helper()
	for j := 0; ; j++ {
		if len(bundle) < 2 {
			t.Fatalf("bundle ends before entry %d", i)
		}
		l := int(binary.BigEndian.Uint16(bundle))
		if len(bundle) < 2+l {
			t.Fatalf("bundle entry %d is truncated", j)
		}
		if j == i {
			return bundle[2 : 2+l]
		}
		bundle = bundle[2+l:]
	}
}
