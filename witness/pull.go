package witness

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/log"
)

// Run polls every log configured with a URL until ctx is done, cosigning each
// new checkpoint through the same checks as AddCheckpoint. It returns when all
// pollers have stopped. Failed polls are logged and retried at the next tick.
func (w *Witness) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, l := range w.logs {
		if l.URL == "" {
			continue
		}
		wg.Go(func() { w.poll(ctx, l) })
	}
	wg.Wait()
	return nil
}

func (w *Witness) poll(ctx context.Context, l *knownLog) {
	t := time.NewTicker(l.PollInterval)
	defer t.Stop()
	for {
		if err := w.Pull(ctx, l.Origin); err != nil && ctx.Err() == nil {
			w.logger.WarnContext(ctx, "pulling checkpoint", "origin", l.Origin, "url", l.URL, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pull fetches the checkpoint of the log with the given origin from its URL,
// proves its consistency with the latest cosigned checkpoint from the log's
// tiles, and cosigns it. A checkpoint no newer than the latest cosigned one is
// left alone unless it has the same size and a different root (a fork), which
// is refused with ErrFork.
func (w *Witness) Pull(ctx context.Context, origin string) error {
	l, ok := w.logs[origin]
	if !ok || l.URL == "" {
		return fmt.Errorf("%w: %q has no URL to pull from", ErrUnknownLog, origin)
	}
	msg, err := fetch(ctx, w.client, l.URL+"/checkpoint", log.MaxNoteSize)
	if err != nil {
		return err
	}
	cp, _, err := log.OpenCheckpoint(msg, l.Origin, l.verifier)
	if err != nil {
		return fmt.Errorf("checkpoint from %s: %w", l.URL, err)
	}
	stored, err := w.store.Load(ctx, l.Origin)
	if err != nil {
		return err
	}
	latest, err := w.openStored(l, stored)
	if err != nil {
		return err
	}
	if cp.Size < latest.Size || (cp.Size == latest.Size && cp.Hash == latest.Hash) {
		return nil // nothing new; an older checkpoint may be a stale cache
	}
	req := AddCheckpointRequest{OldSize: latest.Size, Note: msg}
	if latest.Size > 0 && cp.Size > latest.Size {
		tiles := &tileReader{ctx: ctx, client: w.client, url: l.URL}
		hr := tlog.TileHashReader(tlog.Tree{N: int64(cp.Size), Hash: tlog.Hash(cp.Hash)}, tiles)
		p, err := tlog.ProveTree(int64(cp.Size), int64(latest.Size), hr)
		if err != nil {
			return fmt.Errorf("proving %d to %d from the tiles of %s: %w", latest.Size, cp.Size, l.URL, err)
		}
		for _, h := range p {
			req.Proof = append(req.Proof, h[:])
		}
	}
	_, err = w.AddCheckpoint(ctx, req)
	return err
}
