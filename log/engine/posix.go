package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tabularium/tabularium/log"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
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

// antispamPushbackThreshold is how far the Badger antispam index may fall behind
// the integrated tree before Add pushes back. tessera's default, 2048, is about
// half a second of appends at the rates this project targets; the in-memory
// antispam cache still catches recent duplicates while the index lags.
const antispamPushbackThreshold = 16384

// OpenPOSIX opens (creating if needed) a log in cfg.Dir. It refuses a VKey that is
// not Signer's, and a folder whose published checkpoint is not signed by Signer for
// its origin.
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
	cp, err := readPublishedCheckpoint(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if err := checkIdentity(cfg.Signer, cfg.VKey, cp, cfg.Dir); err != nil {
		return nil, err
	}
	driver, err := posix.New(ctx, posix.Config{Path: cfg.Dir, HTTPClient: cfg.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("open POSIX storage in %s: %w", cfg.Dir, err)
	}
	var as tessera.Antispam
	if !cfg.Options.NoAntispam {
		as, err = badgeras.NewAntispam(ctx, filepath.Join(cfg.Dir, AntispamDir), badgeras.AntispamOpts{PushbackThreshold: antispamPushbackThreshold})
		if err != nil {
			return nil, fmt.Errorf("open antispam index: %w", err)
		}
	}
	return open(ctx, driver, as, cfg.Signer, cfg.VKey, cfg.Options, cfg.Logger)
}

// ErrIdentity is returned by OpenPOSIX when the key does not match the signer or
// the folder holds another log. The configuration must be fixed; retrying is futile.
var ErrIdentity = errors.New("log identity mismatch")

// checkIdentity refuses a verifier key that is not the signer's, and a published
// checkpoint (cp, nil if there is none yet, found at where) that does not verify
// under that key and origin: tessera would otherwise re-sign the existing tree
// under a new identity without a word.
func checkIdentity(signer note.Signer, vkey string, cp []byte, where string) error {
	v, err := log.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("%w: verifier key: %w", ErrIdentity, err)
	}
	msg := []byte("tabularium key check\n")
	sig, err := signer.Sign(msg)
	if err != nil {
		return fmt.Errorf("sign key check: %w", err)
	}
	if v.Name() != signer.Name() || v.KeyHash() != signer.KeyHash() || !v.Verify(msg, sig) {
		return fmt.Errorf("%w: verifier key %q is not the key of signer %q", ErrIdentity, vkey, signer.Name())
	}
	if cp == nil {
		return nil
	}
	if _, _, err := log.OpenCheckpoint(cp, signer.Name(), v); err != nil {
		return fmt.Errorf("%w: %s holds a checkpoint that is not of %s under this key: %w", ErrIdentity, where, signer.Name(), err)
	}
	return nil
}

// readPublishedCheckpoint returns the checkpoint in a POSIX log folder, or nil
// if the log has published none.
func readPublishedCheckpoint(dir string) ([]byte, error) {
	cp, err := os.ReadFile(filepath.Join(dir, layout.CheckpointPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the published checkpoint in %s: %w", dir, err)
	}
	return cp, nil
}
