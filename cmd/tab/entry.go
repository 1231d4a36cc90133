package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tabularium/tabularium/personality/entry"
)

// docFlags collects repeated --doc KIND:HEX flags.
type docFlags []entry.Commitment

func (d *docFlags) String() string { return fmt.Sprint(len(*d)) }

func (d *docFlags) Set(s string) error {
	kind, h, ok := strings.Cut(s, ":")
	b, err := hex.DecodeString(h)
	if !ok || err != nil || len(b) != 32 {
		return errors.New("want KIND:HEX with a 32-byte hex SHA-256 commitment")
	}
	*d = append(*d, entry.Commitment{Kind: kind, Hash: b})
	return nil
}

func runEntryNew(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("entry new", stderr)
	logArg := fs.String("log", "", "the log the entry is for: its origin (tabularium.local/land), or its name (land), looked up on --server")
	server := fs.String("server", "http://127.0.0.1:8080", "server base URL, where a log's name is looked up")
	typ := fs.String("type", "", "entry type, e.g. land.transfer")
	object := fs.String("object", "", "object id, e.g. land/parcel-17")
	prev := fs.String("prev", "", "hex hash of the object's latest entry (latest_hash from tab object); empty for a new object")
	fields := fs.String("fields", "{}", "type-specific fields as JSON, or @FILE; e.g. land.court-order: {\"restore\":INDEX,\"keep\":[N],\"void\":[N]}, naming every pledge and arrest created after INDEX")
	out := fs.String("out", "", "file to write the unsigned entry to")
	var docs docFlags
	fs.Var(&docs, "doc", "document commitment KIND:HEX (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *typ == "" || *object == "" || *logArg == "" || fs.NArg() != 0 {
		return errors.New("entry new needs --log, --type, --object and --out")
	}
	// The entry names its log by origin; a name is looked up on the server.
	origin := *logArg
	if isLogName(origin) {
		in, err := lookupLog(ctx, httpClient, *server, origin)
		if err != nil {
			return fmt.Errorf("--log %s is a log's name, and the entry needs the log's origin (give the origin, or --server URL): %w", origin, err)
		}
		origin = in.Origin
	}
	p := &entry.Payload{Log: origin, Type: *typ, Object: *object, Time: time.Now().Unix(), Docs: docs}
	var err error
	if p.Prev, err = hex.DecodeString(*prev); err != nil {
		return fmt.Errorf("--prev: %w", err)
	}
	if p.Fields, err = entry.NewFields(*typ); err != nil {
		return err
	}
	js := []byte(*fields)
	if strings.HasPrefix(*fields, "@") {
		if js, err = os.ReadFile((*fields)[1:]); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p.Fields); err != nil {
		return fmt.Errorf("--fields for %s: %w", *typ, err)
	}
	b, err := entry.EncodePayload(p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote unsigned %s entry for %s to %s; have every party run tab entry sign on it\n", *typ, *object, *out)
	return nil
}

func runEntrySign(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("entry sign", stderr)
	keyFile := fs.String("key", "", "private key file of the signing party")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" || fs.NArg() != 1 {
		return errors.New("entry sign needs --key FILE and one ENTRYFILE")
	}
	k, err := readKey(*keyFile)
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	signed, err := entry.Sign(b, k)
	if err != nil {
		return err
	}
	e, err := entry.Parse(signed)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, signed, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed by %s; %d signatures; entry hash %x\n", k.Public, len(e.Signers), e.Hash)
	return nil
}
