package witness

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestTilePath(t *testing.T) {
	for _, tt := range []struct {
		tile tlog.Tile
		want string
	}{
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{tlog.Tile{H: 8, L: 1, N: 1234, W: 5}, "tile/1/x001/234.p/5"},
		{tlog.Tile{H: 8, L: 2, N: 7, W: 255}, "tile/2/007.p/255"},
	} {
		if got := tilePath(tt.tile); got != tt.want {
			t.Errorf("tilePath(%+v) = %q, want %q", tt.tile, got, tt.want)
		}
	}
}
