package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/tabularium/tabularium/personality/entry"
)

// docKindRE is the form of a document kind that an entry accepts: a short
// lowercase word, as the registries name theirs (deed, diploma, order).
var docKindRE = regexp.MustCompile(`^[a-z][a-z-]{0,31}$`)

// maxDocSize bounds a document read by tab doc commit; its opening file holds
// the document whole.
const maxDocSize = 16 << 20

// runDocCommit commits to a document: it makes a random salt, computes the
// commitment SHA-256(salt‖document), writes the opening (kind, salt and the
// document, as tab cert --open reads it) to a file only the user can read,
// and prints the --doc value of tab entry new.
func runDocCommit(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doc commit", stderr)
	kind := fs.String("kind", "", "the document's kind, e.g. deed")
	out := fs.String("out", "", "opening file to write (default FILE.opening.json; never overwritten)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *kind == "" || len(pos) != 1 {
		return errors.New("doc commit needs --kind KIND and one document FILE")
	}
	if !docKindRE.MatchString(*kind) {
		return fmt.Errorf("--kind %q: a kind is at most 32 lowercase letters and dashes, e.g. deed", *kind)
	}
	doc, err := readLimited(pos[0], maxDocSize)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = pos[0] + ".opening.json"
	}
	c, salt, err := entry.Commit(*kind, doc)
	if err != nil {
		return err
	}
	b, err := json.Marshal(openingFile{Kind: *kind, Salt: hex.EncodeToString(salt), Contents: doc})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("opening file: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s:%x\n", *kind, c.Hash)
	fmt.Fprintf(stderr, "wrote %s (the salt and the document: keep it private; tab cert --open %s proves the document in a certificate); pass --doc %s:%x to tab entry new\n",
		*out, *out, *kind, c.Hash)
	return nil
}
