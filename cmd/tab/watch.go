package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/personality/entry"
)

// runWatch follows a log and prints every entry touching a watched object or
// key, one line each, until interrupted (or after one poll with --once).
func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("watch", stderr)
	var lt logTarget
	lt.flags(fs)
	var objects, keys repeated
	fs.Var(&objects, "object", "an object to watch, e.g. land/parcel-9 (repeat for several)")
	fs.Var(&keys, "key", "a party's public key to watch: entries it signed or that name it (repeat for several)")
	from := fs.Int64("from", -1, "first entry to read (default: only entries logged from now on)")
	interval := fs.Duration("interval", 10*time.Second, "time between two polls of the log's checkpoint")
	once := fs.Bool("once", false, "poll once and exit")
	stateDir := fs.String("state", "", "folder keeping the last checkpoint seen (last-seen.json), checked for consistency across runs")
	maxAge := fs.Duration("max-age", 0, "refuse witness cosignatures older than this (default: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("watch takes no arguments, got %q", fs.Args())
	}
	if len(objects)+len(keys) == 0 {
		return errors.New("watch needs --object ID or --key KEY")
	}
	filter := client.WatchFilter{Objects: objects}
	for _, k := range keys {
		pk := entry.PublicKey(k)
		if !pk.Valid() {
			return fmt.Errorf("--key %q is not a public key", k)
		}
		filter.Keys = append(filter.Keys, pk)
	}
	if err := lt.resolve(ctx, httpClient); err != nil {
		return err
	}
	opts := client.WatchOptions{Policy: lt.policy, MaxAge: *maxAge, Interval: *interval, Once: *once,
		Report: func(c client.Change) error { _, err := fmt.Fprintln(stdout, c); return err }}
	if *stateDir != "" {
		if err := os.MkdirAll(*stateDir, 0o700); err != nil {
			return err
		}
		ls, err := client.OpenLastSeen(filepath.Join(*stateDir, "last-seen.json"))
		if err != nil {
			return err
		}
		opts.LastSeen = ls
	}
	start := uint64(*from)
	if *from < 0 {
		msg, err := lt.fetcher.ReadCheckpoint(ctx)
		if err != nil {
			return err
		}
		cp, _, err := lt.policy.VerifyCheckpoint(msg, lt.origin, time.Now(), *maxAge)
		if err != nil {
			return fmt.Errorf("checkpoint of %s: %w", lt.origin, err)
		}
		start = cp.Size
	}
	fmt.Fprintf(stderr, "watching %s from entry %d\n", lt.origin, start)
	next, err := client.Watch(ctx, lt.fetcher, lt.origin, filter, start, opts)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintf(stderr, "stopped; next entry %d\n", next)
		return nil
	}
	if err != nil && printEvidence(stdout, err) {
		return fmt.Errorf("%w: %v", errAuditFailed, err)
	}
	return err
}
