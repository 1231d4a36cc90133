package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tabularium/tabularium/personality/entry"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
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
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, k.Public)
	return nil
}

// readKey reads a private key file, refusing one that others may read.
func readKey(path string) (*entry.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %v; run chmod 600 on it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return entry.ParsePrivateKeyPEM(b)
}
