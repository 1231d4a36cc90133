package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// DefaultRecoveryWait is the waiting period of a key recovery when the
// configuration names none: two weeks of log time.
const DefaultRecoveryWait = 14 * 24 * 60 * 60

// RootKeyPath is where a log's generated root authority key is kept.
func RootKeyPath(data, name string) string {
	return filepath.Join(data, "keys", name+"-root.key")
}

// partyKey returns the Ed25519 party key in the PEM file at path, first
// generating it (mode 0600) if the file does not exist; created says whether it did.
func partyKey(path string) (k *entry.PrivateKey, created bool, err error) {
	text, created, err := keyfile.ReadOrCreate(path, func() (string, error) {
		k, err := entry.GenerateKey(entry.KeyEd25519)
		if err != nil {
			return "", err
		}
		b, err := k.MarshalPEM()
		return string(b), err
	})
	if err != nil {
		return nil, false, err
	}
	if k, err = entry.ParsePrivateKeyPEM([]byte(text)); err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return k, created, nil
}

// openRegistry opens the personality of one log: its state index in
// <data>/state/<name>.db, caught up with the log, and its rules. A log with no
// configured root keys gets a root authority key generated on first start into
// <data>/keys/<name>-root.key (mode 0600) and reused afterwards. Neither lives in
// the log's folder, which may be served as static files.
func openRegistry(ctx context.Context, cfg Config, lc LogConfig, l *engine.Log, logger *slog.Logger) (*registry.Registry, *state.Store, error) {
	rc := rules.Config{Log: lc.Origin, Kind: lc.Registry, RecoveryWait: int64(lc.RecoveryWait.Seconds())}
	if lc.RecoveryWait == 0 {
		rc.RecoveryWait = DefaultRecoveryWait
	}
	for _, r := range lc.Roots {
		rc.Roots = append(rc.Roots, entry.PublicKey(r))
	}
	if len(rc.Roots) == 0 {
		path := RootKeyPath(cfg.Data, lc.Name)
		k, created, err := partyKey(path)
		if err != nil {
			return nil, nil, fmt.Errorf("root authority key: %w", err)
		}
		if created {
			logger.Info("generated a root authority key", "log", lc.Name, "file", path, "public", k.Public)
		}
		rc.Roots = []entry.PublicKey{k.Public}
	}
	store, err := openStore(ctx, cfg, lc)
	if err != nil {
		return nil, nil, err
	}
	ropts := registry.Options{Logger: logger.With("log", lc.Name), MaxSignatures: lc.MaxSignatures}
	var reg *registry.Registry
	if lc.Storage.Kind == "s3" {
		// Other front ends write this log and this index too.
		reg, err = registry.OpenShared(ctx, rc, l, store, ropts)
	} else {
		reg, err = registry.Open(ctx, rc, l, store, ropts)
	}
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	logger.Info("registry open", "log", lc.Name, "kind", rc.Kind, "roots", rc.Roots)
	return reg, store, nil
}

// openStore opens the log's state index: <data>/state/<name>.db on the POSIX
// tier, the log's own MySQL-compatible database on the s3 tier.
func openStore(ctx context.Context, cfg Config, lc LogConfig) (*state.Store, error) {
	if lc.Storage.Kind == "s3" {
		dsn, err := keyfile.Read(lc.Storage.MySQLDSNFile)
		if err != nil {
			return nil, fmt.Errorf("mysql_dsn_file: %w", err)
		}
		return state.OpenMySQL(ctx, dsn, lc.Origin)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Data, "state"), 0o700); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	return state.Open(filepath.Join(cfg.Data, "state", lc.Name+".db"), lc.Origin)
}
