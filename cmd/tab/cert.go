package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/personality/entry"
)

// openingFile is the JSON form of a document opening given to tab cert --open:
// the document's kind as committed in the entry, the salt in hex and the
// document itself in base64.
type openingFile struct {
	Kind     string `json:"kind"`
	Salt     string `json:"salt"`
	Contents []byte `json:"contents"`
}

// repeated collects a flag given more than once.
type repeated []string

func (r *repeated) String() string     { return fmt.Sprint(*r) }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }

func runCert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cert", stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "server base URL")
	logArg := fs.String("log", "", "the log's name (land) or origin (tabularium.local/land)")
	out := fs.String("out", "", "certificate file to write (.tlog-proof)")
	var opens repeated
	fs.Var(&opens, "open", `JSON file {"kind","salt":HEX,"contents":BASE64} opening one of the entry's documents (repeatable)`)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *logArg == "" || *out == "" || len(pos) != 1 {
		return errors.New("cert needs --log LOG, --out FILE and one INDEX")
	}
	index, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil {
		return fmt.Errorf("index %q is not a number", pos[0])
	}
	logName, err := logNameOn(ctx, httpClient, *server, *logArg)
	if err != nil {
		return err
	}
	c, err := client.NewFetcher(*server, logName, httpClient).Certificate(ctx, index)
	if err != nil {
		return fmt.Errorf("get certificate of entry %d: %w", index, err)
	}
	if c.Index != index {
		return fmt.Errorf("the server answered with entry %d, not %d", c.Index, index)
	}
	for _, f := range opens {
		o, err := readOpening(f, c.Entry)
		if err != nil {
			return err
		}
		c.Openings = append(c.Openings, o)
	}
	sort.Slice(c.Openings, func(i, j int) bool { return c.Openings[i].Doc < c.Openings[j].Doc })
	b, err := c.Marshal()
	if err != nil {
		return err
	}
	if _, err := client.ParseCertificate(b); err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: entry %d, %d bytes; check it with tab verify --policy POLICY %s\n", *out, index, len(b), *out)
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// readOpening reads an opening file and finds the commitment it opens.
func readOpening(path string, raw []byte) (client.Opening, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return client.Opening{}, err
	}
	var of openingFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&of); err != nil {
		return client.Opening{}, fmt.Errorf("opening %s: %w", path, err)
	}
	salt, err := hex.DecodeString(of.Salt)
	if err != nil || len(salt) == 0 {
		return client.Opening{}, fmt.Errorf("opening %s: salt must be hex", path)
	}
	e, err := entry.Parse(raw)
	if err != nil {
		return client.Opening{}, fmt.Errorf("the server's entry: %w", err)
	}
	for i, d := range e.Payload.Docs {
		if d.Kind == of.Kind && bytes.Equal(entry.CommitWithSalt(d.Kind, salt, of.Contents).Hash, d.Hash) {
			return client.Opening{Doc: uint64(i), Salt: salt, Contents: of.Contents}, nil
		}
	}
	return client.Opening{}, fmt.Errorf("opening %s does not match any %q commitment of the entry", path, of.Kind)
}
