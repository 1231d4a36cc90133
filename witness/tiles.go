package witness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is the tile height of c2sp.org/tlog-tiles: 256 hashes a tile.
const tileHeight = 8

// errNotFound is a 404 from the log.
var errNotFound = errors.New("not found")

// tileReader reads a log's hash tiles over HTTP (c2sp.org/tlog-tiles). It
// implements tlog.TileReader; tlog.TileHashReader checks what it returns
// against the checkpoint's root hash.
type tileReader struct {
	ctx    context.Context
	client *http.Client
	url    string
}

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		d, err := r.readTile(t)
		if err != nil {
			return nil, err
		}
		data[i] = d
	}
	return data, nil
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// readTile fetches one tile. A partial tile that is gone because the tile was
// completed is read from the full tile.
func (r *tileReader) readTile(t tlog.Tile) ([]byte, error) {
	want := t.W * 32
	d, err := fetch(r.ctx, r.client, r.url+"/"+tilePath(t), int64(1<<tileHeight)*32)
	if errors.Is(err, errNotFound) && t.W < 1<<tileHeight {
		full := t
		full.W = 1 << tileHeight
		d, err = fetch(r.ctx, r.client, r.url+"/"+tilePath(full), int64(1<<tileHeight)*32)
	}
	if err != nil {
		return nil, err
	}
	if len(d) < want {
		return nil, fmt.Errorf("tile %s has %d bytes, want %d", tilePath(t), len(d), want)
	}
	return d[:want], nil
}

// tilePath is the c2sp.org/tlog-tiles path of a hash tile,
// tile/<L>/<N>[.p/<W>], where N is split in 3-digit groups with x prefixes.
// It is the golang.org/x/mod/sumdb/tlog path without the tile height.
func tilePath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", t.H))
}

// fetch GETs url and returns a body of at most max bytes.
func fetch(ctx context.Context, client *http.Client, url string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: %w", url, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("GET %s: response over %d bytes", url, max)
	}
	return b, nil
}
