package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/entry"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", stderr)
	out := fs.String("out", "", "file to write the private key to (mode 0600; never overwritten)")
	typ := fs.String("type", entry.KeyEd25519, "key type: ed25519 or p256")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return errors.New("keygen needs --out FILE and no arguments")
	}
	k, err := entry.GenerateKey(*typ)
	if err != nil {
		return err
	}
	b, err := k.MarshalPEM()
	if err != nil {
		return err
	}
	if err := keyfile.Write(*out, strings.TrimSpace(string(b))); err != nil {
		return err
	}
	fmt.Fprintln(stdout, k.Public)
	return nil
}

// dataRootKey is where tabularium serve and dev keep the generated root
// authority key of log name under their data folder.
func dataRootKey(data, name string) string {
	return filepath.Join(data, "keys", name+"-root.key")
}

// readKey reads a private key file, refusing one that others may read.
func readKey(path string) (*entry.PrivateKey, error) {
	s, err := keyfile.Read(path)
	if err != nil {
		return nil, err
	}
	return entry.ParsePrivateKeyPEM([]byte(s + "\n"))
}
