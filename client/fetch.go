package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/transparency-dev/tessera/api/layout"

	"github.com/tabularium/tabularium/log/prover"
)

// Response size limits for the fetcher.
const (
	maxTileSize       = 32 * 256 // a full tile of 256 hashes
	maxCheckpointSize = 64 << 10
)

// Fetcher reads a log's public resources over HTTP: its checkpoint and tiles
// (c2sp.org/tlog-tiles) and certificates from the log server's proof endpoint.
type Fetcher struct {
	// Base is the log's URL prefix, for example http://host/logs/land/.
	Base string
	// Client is the HTTP client; nil means http.DefaultClient.
	Client *http.Client
}

// NewFetcher returns a fetcher for the log named name on the server at server.
func NewFetcher(server, name string, c *http.Client) *Fetcher {
	return &Fetcher{Base: strings.TrimRight(server, "/") + "/logs/" + url.PathEscape(name) + "/", Client: c}
}

// get returns the body of a 200 answer of at most limit bytes. A 404 is
// returned as an error wrapping os.ErrNotExist, as tessera's fetchers require.
func (f *Fetcher) get(ctx context.Context, path string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.Base+path, nil)
	if err != nil {
		return nil, err
	}
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: %s: %w", path, strings.TrimSpace(string(b)), os.ErrNotExist)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	case int64(len(b)) > limit:
		return nil, fmt.Errorf("GET %s: answer over %d bytes", path, limit)
	}
	return b, nil
}

// ReadCheckpoint returns the log's latest signed checkpoint.
func (f *Fetcher) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return f.get(ctx, "checkpoint", maxCheckpointSize)
}

// ReadTile returns a hash tile; a missing partial tile falls back to the full
// one, as tessera's client.TileFetcherFunc requires.
func (f *Fetcher) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	b, err := f.get(ctx, layout.TilePath(level, index, p), maxTileSize)
	if p != 0 && errors.Is(err, os.ErrNotExist) {
		return f.get(ctx, layout.TilePath(level, index, 0), maxTileSize)
	}
	return b, err
}

// Certificate fetches the certificate of the entry at index against the log's
// latest published checkpoint, and parses it. The caller must Verify it.
func (f *Fetcher) Certificate(ctx context.Context, index uint64) (*Certificate, error) {
	b, err := f.get(ctx, certificatePath(index), MaxProofSize)
	if err != nil {
		return nil, err
	}
	return ParseCertificate(b)
}

// CertificateURL is the address Certificate fetches for index.
func (f *Fetcher) CertificateURL(index uint64) string { return f.Base + certificatePath(index) }

func certificatePath(index uint64) string { return "proof/" + strconv.FormatUint(index, 10) }

// TileProver builds consistency proofs from a log's tiles. It implements
// ConsistencyProver.
type TileProver struct {
	// ReadTile fetches a tile, with the contract of tessera's
	// client.TileFetcherFunc; Fetcher.ReadTile is one.
	ReadTile func(ctx context.Context, level, index uint64, p uint8) ([]byte, error)
}

// ConsistencyProof implements ConsistencyProver.
func (t TileProver) ConsistencyProof(ctx context.Context, oldSize, newSize uint64) ([][]byte, error) {
	p, err := prover.New(t.ReadTile, -1)
	if err != nil {
		return nil, err
	}
	return p.ConsistencyProof(ctx, oldSize, newSize)
}
