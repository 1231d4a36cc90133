package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/entry"
)

// runKeyShow prints the public key of a private key file: a party's key (as
// tab keygen writes it, or a log's root authority key) as the entries and
// policies name it, or a log's or witness's checkpoint signing key as its
// verifier key (vkey), the form a trust policy names it in.
func runKeyShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("key show", stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("key show needs one key FILE")
	}
	s, err := keyfile.Read(pos[0])
	if err != nil {
		return err
	}
	if strings.HasPrefix(s, "PRIVATE+KEY+") {
		vkey, err := log.VerifierKey(s)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		fmt.Fprintln(stdout, vkey)
		return nil
	}
	k, err := entry.ParsePrivateKeyPEM([]byte(s + "\n"))
	if err != nil {
		return fmt.Errorf("%s is neither a party's key (PEM, as tab keygen writes) nor a checkpoint signing key (PRIVATE+KEY+...): %w", pos[0], err)
	}
	fmt.Fprintln(stdout, k.Public)
	return nil
}
