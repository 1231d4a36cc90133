// Package keyfile reads and writes secret key files: one signed-note signer key
// (c2sp.org/signed-note) per file, mode 0600, never overwritten, and refused when
// anyone but the owner may read it.
package keyfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrUnsafe is returned for a key file that group or others may read or write.
var ErrUnsafe = errors.New("key file is readable or writable by others")

// MaxSize bounds a key file.
const MaxSize = 4096

// Write creates path with mode 0600 and writes key to it, followed by a newline.
// It refuses to overwrite an existing file.
func Write(path, key string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create key folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync key file: %w", err)
	}
	return f.Close()
}

// Read returns the key in path, without surrounding space. It refuses a file whose
// permissions let anyone but its owner read or write it.
func Read(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%w: %s has mode %v; run chmod 600 on it", ErrUnsafe, path, fi.Mode().Perm())
	}
	if fi.Size() > MaxSize {
		return "", fmt.Errorf("key file %s is over %d bytes", path, MaxSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("key file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadOrCreate returns the key in path, first writing the key made by gen if the
// file does not exist. created reports whether it did.
func ReadOrCreate(path string, gen func() (string, error)) (key string, created bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		k, err := gen()
		if err != nil {
			return "", false, err
		}
		if err := Write(path, k); err != nil {
			return "", false, err
		}
		created = true
	}
	key, err = Read(path)
	return key, created, err
}
