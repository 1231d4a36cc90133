package engine

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	badgeras "github.com/transparency-dev/tessera/storage/posix/antispam"
	"golang.org/x/mod/sumdb/note"
)

// POSIXConfig opens a log on tessera's POSIX driver: tiles, entry bundles and the
// checkpoint are files under Dir, laid out exactly as c2sp.org/tlog-tiles paths, so
// the folder can also be served by any static web server.
type POSIXConfig struct {
	Dir     string
	Signer  note.Signer
	VKey    string // the verifier key of Signer
	Options Options
	Logger  *slog.Logger
	// HTTPClient is used to reach witnesses; nil means a client with a timeout.
	HTTPClient *http.Client
}

// AntispamDir is where, under a POSIX log's folder, the Badger antispam index lives.
// It sits in tessera's .state folder, which is not part of the served tree.
const AntispamDir = ".state/antispam"

// OpenPOSIX opens (creating if needed) a log in cfg.Dir.
//
// The Badger antispam index cannot be closed through tessera's API, so a log whose
// antispam is on can be opened only once per process.
func OpenPOSIX(ctx context.Context, cfg POSIXConfig) (*Log, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
	driver, err := posix.New(ctx, posix.Config{Path: cfg.Dir, HTTPClient: cfg.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("open POSIX storage in %s: %w", cfg.Dir, err)
	}
	var as tessera.Antispam
	if !cfg.Options.NoAntispam {
		as, err = badgeras.NewAntispam(ctx, filepath.Join(cfg.Dir, AntispamDir), badgeras.AntispamOpts{})
		if err != nil {
			return nil, fmt.Errorf("open antispam index: %w", err)
		}
	}
	return open(ctx, driver, as, cfg.Signer, cfg.VKey, cfg.Options, cfg.Logger)
}
