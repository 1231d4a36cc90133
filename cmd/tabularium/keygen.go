package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/keyfile"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	origin := fs.String("origin", "", "the log's origin, which names the key (e.g. registry.example.gov/land)")
	out := fs.String("out", "", "file to write the signer key to (mode 0600; never overwritten)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *origin == "" || *out == "" {
		fs.Usage()
		return errors.New("keygen needs --origin and --out")
	}
	skey, vkey, err := log.GenerateKey(*origin)
	if err != nil {
		return err
	}
	if err := keyfile.Write(*out, skey); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote signer key to %s\nverifier key: %s\n", *out, vkey)
	return nil
}
