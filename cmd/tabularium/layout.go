package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// The data folder keeps public and private data in disjoint trees:
//
//	<data>/logs/<name>/  each POSIX log's tessera tree: public, may be served as static files
//	<data>/keys/         checkpoint and root authority keys: secret
//	<data>/state/        state indexes (and dev's witness stores): private
//
// so that no log name, whatever it is, puts a public folder inside a private
// one. Earlier versions kept a log's tree in <data>/<name>, beside keys/ and
// state/ (a log named keys had its tiles among the keys); migrateLayout moves
// such trees to where they belong.

// LogsDir is the folder, under the data folder, of the POSIX logs' trees.
const LogsDir = "logs"

// DefaultLogDir is the default POSIX folder of the log name.
func DefaultLogDir(data, name string) string { return filepath.Join(data, LogsDir, name) }

// privateDirs are the folders under the data folder that hold private data.
var privateDirs = []string{"keys", "state"}

// tesseraNames are the entries tessera's POSIX driver writes at the root of a
// log's folder: the checkpoint, the tiles and entry bundles, and its internal
// state (with the Badger antispam index).
var tesseraNames = []string{"checkpoint", "tile", ".state"}

// migrateLayout moves the tree of every POSIX log whose folder is the default,
// <data>/logs/<name>, from where earlier versions kept it, <data>/<name>, and
// says so in the log. It moves tessera's entries only (tesseraNames), through a
// staging folder renamed into place once all are in it, so that a crash midway
// resumes on the next start and leaves no half-moved log in <data>/logs/<name>;
// anything else in the old folder (a log named keys shared its folder with the
// keys) stays where it is. It refuses, changing nothing, when both places hold
// a tree.
func migrateLayout(cfg Config, logger *slog.Logger) error {
	logs := slices.Clone(cfg.Logs)
	// In the old layout a log named "logs" had its tree, and its tile folder,
	// in <data>/logs: move it before the folder is read as the parent of the
	// others (whose new folder might be <data>/logs/tile).
	slices.SortStableFunc(logs, func(a, b LogConfig) int {
		return boolCmp(b.Name == LogsDir, a.Name == LogsDir)
	})
	for _, lc := range logs {
		if lc.Storage.Kind != "posix" || filepath.Clean(lc.Storage.Dir) != DefaultLogDir(cfg.Data, lc.Name) {
			continue
		}
		if err := migrateLog(cfg.Data, lc.Name, logger); err != nil {
			return fmt.Errorf("log %s: %w", lc.Name, err)
		}
	}
	return nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// migrateLog moves the old-layout tree of the log name, if there is one.
func migrateLog(data, name string, logger *slog.Logger) error {
	old, dst := filepath.Join(data, name), DefaultLogDir(data, name)
	stage := filepath.Join(data, LogsDir, "."+name+".moving")
	present, err := presentNames(old)
	if err != nil {
		return err
	}
	staged, err := presentNames(stage)
	if err != nil {
		return err
	}
	if len(present) == 0 && len(staged) == 0 {
		return nil
	}
	// The old folder of a log named logs is the new parent: its tree is
	// there only if <data>/logs/checkpoint or <data>/logs/.state is (a folder
	// named tile is a log of that name).
	if name == LogsDir && len(staged) == 0 && !slices.Contains(present, "checkpoint") && !slices.Contains(present, ".state") {
		return nil
	}
	if held, err := presentNames(dst); err != nil {
		return err
	} else if len(held) > 0 {
		return fmt.Errorf("its tree is both in %s (the new layout) and in %s (the layout of earlier versions); keep the one whose checkpoint is the log's latest: "+
			"to keep the old one, move %s away; to keep the new one, move %s out of %s; then start again",
			dst, old, dst, strings.Join(present, ", "), old)
	}
	logger.Warn("moving a log's tree to the new layout, where public and private data are in disjoint folders",
		"log", name, "from", old, "to", dst, "entries", strings.Join(present, " "))
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return fmt.Errorf("move the log's tree to %s: %w", dst, err)
	}
	for _, n := range present {
		if err := os.Rename(filepath.Join(old, n), filepath.Join(stage, n)); errors.Is(err, syscall.EXDEV) {
			return fmt.Errorf("its tree in %s (the layout of earlier versions) is on another file system than %s: stop, move %s from %s into %s by hand (or name the old folder in the log's storage dir), and start again",
				old, dst, strings.Join(present, ", "), old, dst)
		} else if err != nil {
			return fmt.Errorf("move %s to %s: %w", filepath.Join(old, n), stage, err)
		}
	}
	// An empty folder at dst (made by a version that created it) gives way.
	if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("move the log's tree to %s: %w", dst, err)
	}
	if err := os.Rename(stage, dst); err != nil {
		return fmt.Errorf("move the log's tree to %s: %w", dst, err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return err
	}
	if name != LogsDir {
		if err := tidyOld(old, name, logger); err != nil {
			return err
		}
	}
	logger.Warn("moved a log's tree to the new layout", "log", name, "to", dst)
	return nil
}

// tidyOld removes the old folder of a moved log if it is empty, and names
// what it still holds otherwise.
func tidyOld(old, name string, logger *slog.Logger) error {
	left, err := os.ReadDir(old)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case len(left) == 0:
		return os.Remove(old)
	}
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	logger.Warn("left in place: not part of the log's tree", "log", name, "folder", old, "entries", strings.Join(names, " "))
	return nil
}

// presentNames returns which of tesseraNames exist in dir, each of its kind:
// checkpoint a file, tile and .state folders (in <data>/logs, a folder named
// checkpoint is a log of that name).
func presentNames(dir string) ([]string, error) {
	var out []string
	for _, n := range tesseraNames {
		fi, err := os.Lstat(filepath.Join(dir, n))
		switch {
		case err == nil && fi.IsDir() == (n != "checkpoint"):
			out = append(out, n)
		case err == nil, errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		default:
			return nil, fmt.Errorf("look for a log's tree in %s: %w", dir, err)
		}
	}
	return out, nil
}

// syncDir makes a folder's renames durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// checkDisjoint refuses a configuration in which a POSIX log's folder, which
// may be served as static files, is inside or contains a private folder
// (<data>/keys, <data>/state), a secret file, or another log's folder.
func (c Config) checkDisjoint() error {
	var private []string
	for _, d := range privateDirs {
		private = append(private, filepath.Join(c.Data, d))
	}
	for _, l := range c.Logs {
		for _, p := range []string{l.KeyFile, l.Storage.CredentialsFile, l.Storage.MySQLDSNFile} {
			if p != "" {
				private = append(private, p)
			}
		}
	}
	for i, l := range c.Logs {
		if l.Storage.Kind != "posix" {
			continue
		}
		for _, p := range private {
			if overlaps(l.Storage.Dir, p) {
				return fmt.Errorf("config: log %s: its folder %s overlaps %s, which is private: a log's folder may be served as static files; keep it apart (the default is %s)",
					l.Name, l.Storage.Dir, p, DefaultLogDir(c.Data, l.Name))
			}
		}
		for _, o := range c.Logs[:i] {
			if o.Storage.Kind == "posix" && overlaps(l.Storage.Dir, o.Storage.Dir) {
				return fmt.Errorf("config: logs %s and %s: folders %s and %s overlap", o.Name, l.Name, o.Storage.Dir, l.Storage.Dir)
			}
		}
	}
	return nil
}

// overlaps reports whether one of two paths is the other or inside it.
func overlaps(a, b string) bool { return within(a, b) || within(b, a) }

// within reports whether path a is b or inside b, lexically (relative paths
// taken from the working folder; symbolic links are not followed).
func within(a, b string) bool {
	a, errA := filepath.Abs(a)
	b, errB := filepath.Abs(b)
	if errA != nil || errB != nil {
		return a == b
	}
	rel, err := filepath.Rel(b, a)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}
