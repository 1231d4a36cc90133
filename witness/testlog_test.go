package witness_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/witness"
)

// testLog is an in-memory Merkle log built with golang.org/x/mod/sumdb/tlog and
// signed with a key from log.GenerateKey.
type testLog struct {
	t      testing.TB
	origin string
	vkey   string
	signer note.Signer
	stored []tlog.Hash
	size   int64
}

func newTestLog(t testing.TB, origin string) *testLog {
	t.Helper()
	skey, vkey, err := log.GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := log.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{t: t, origin: origin, vkey: vkey, signer: signer}
}

func (l *testLog) config() witness.Log { return witness.Log{Origin: l.origin, VKey: l.vkey} }

// grow appends n leaves.
func (l *testLog) grow(n int) {
	for range n {
		leaf := fmt.Appendf(nil, "%s entry %d", l.origin, l.size)
		hashes, err := tlog.StoredHashes(l.size, leaf, l.reader())
		if err != nil {
			l.t.Fatal(err)
		}
		l.stored = append(l.stored, hashes...)
		l.size++
	}
}

func (l *testLog) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x >= int64(len(l.stored)) {
				return nil, fmt.Errorf("hash %d not stored", x)
			}
			out[i] = l.stored[x]
		}
		return out, nil
	})
}

func (l *testLog) root(size int64) [32]byte {
	if size == 0 {
		return sha256.Sum256(nil)
	}
	h, err := tlog.TreeHash(size, l.reader())
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

// checkpoint returns the log's signed checkpoint of the given size.
func (l *testLog) checkpoint(size int64) []byte {
	return l.sign(log.Checkpoint{Origin: l.origin, Size: uint64(size), Hash: l.root(size)})
}

func (l *testLog) sign(c log.Checkpoint, extra ...note.Signer) []byte {
	msg, err := note.Sign(&note.Note{Text: string(c.Marshal())}, append([]note.Signer{l.signer}, extra...)...)
	if err != nil {
		l.t.Fatal(err)
	}
	return msg
}

func (l *testLog) proof(from, to int64) [][]byte {
	if from == 0 || from >= to {
		return nil
	}
	p, err := tlog.ProveTree(to, from, l.reader())
	if err != nil {
		l.t.Fatal(err)
	}
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

// body encodes an add-checkpoint request body.
func body(old int64, proof [][]byte, msg []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(msg)
	return b.Bytes()
}

// serveTiles serves the log's checkpoint and tiles per c2sp.org/tlog-tiles.
func (l *testLog) serveTiles(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /checkpoint", func(w http.ResponseWriter, r *http.Request) {
		w.Write(l.checkpoint(l.size))
	})
	mux.HandleFunc("GET /tile/", func(w http.ResponseWriter, r *http.Request) {
		tile, err := tlog.ParseTilePath("tile/8/" + strings.TrimPrefix(r.URL.Path, "/tile/"))
		if err != nil || tile.L < 0 {
			http.NotFound(w, r)
			return
		}
		// A tile exists if the log covers its last hash.
		last := (tile.N<<8 + int64(tile.W)) << (8 * tile.L)
		if last > l.size {
			http.NotFound(w, r)
			return
		}
		data, err := tlog.ReadTileData(tile, l.reader())
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// post sends an add-checkpoint request.
func post(t testing.TB, url string, b []byte) (code int, contentType string, resp []byte) {
	t.Helper()
	r, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	resp, err = io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r.StatusCode, r.Header.Get("Content-Type"), resp
}
