package main

import (
	"context"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// queue is one worker's entries: those signed before the clock started, then
// more signed on demand. Entries of a chain whose earlier entry failed are
// skipped, since their prev no longer names the object's latest entry.
type queue struct {
	gen     generator
	items   []*item
	dead    map[int]bool
	skipped int // entries dropped because their chain broke
	late    int // entries signed after the clock started
}

func newQueue(g generator) *queue { return &queue{gen: g, dead: map[int]bool{}} }

// fill signs entries until at least n are waiting.
func (q *queue) fill(n int) error {
	for len(q.items) < n {
		more, err := q.gen.more()
		if err != nil {
			return err
		}
		q.items = append(q.items, more...)
	}
	return nil
}

// next returns the next entry to submit.
func (q *queue) next() (*item, error) {
	for {
		if len(q.items) == 0 {
			more, err := q.gen.more()
			if err != nil {
				return nil, err
			}
			q.items, q.late = more, q.late+len(more)
		}
		it := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		if it.chain >= 0 && q.dead[it.chain] {
			q.skipped++
			continue
		}
		return it, nil
	}
}

// fail records that it was refused: the rest of its chain is dropped.
func (q *queue) fail(it *item) {
	if it.chain >= 0 {
		q.dead[it.chain] = true
	}
}

// prepareAll fills every queue with its share of n entries, on all cores.
func prepareAll(ctx context.Context, qs []*queue, n int) error {
	per := (n + len(qs) - 1) / len(qs)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, q := range qs {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return q.fill(per)
		})
	}
	return g.Wait()
}
