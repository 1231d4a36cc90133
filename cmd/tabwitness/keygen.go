package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/keyfile"
)

// runKeygen writes a new Ed25519 witness signer key to --out, with mode 0600
// and never over an existing file, and prints the cosignature/v1 verifier key.
func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tabwitness keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "witness name, for example witness.example.org/w1 (required)")
	out := fs.String("out", "", "file to write the signer key to (required; must not exist)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || *out == "" {
		fs.Usage()
		return errUsage
	}
	skey, vkey, err := log.GenerateKey(*name)
	if err != nil {
		return err
	}
	cvkey, err := log.CosignatureVKey(vkey)
	if err != nil {
		return err
	}
	if err := keyfile.Write(*out, skey); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("keygen: %s exists; refusing to overwrite a key", *out)
		}
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintln(stdout, cvkey)
	return nil
}
