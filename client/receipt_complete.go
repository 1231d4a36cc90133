package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/tabularium/tabularium/personality/entry"
)

// ErrReceiptMismatch is the reason of a *VerifyError for a certificate that is
// not of the entry its receipt names: the server answered with another index,
// another log or another entry. The caller must not verify or show it: a
// server that swaps entries is either broken or lying.
var ErrReceiptMismatch = errors.New("the server's certificate is not of the entry the receipt names")

// Complete fetches the certificate of the entry a receipt names from the
// server the receipt names (GET <server>/logs/<log>/proof/<index>), and
// returns it only if Match accepts it. The certificate is not yet verified:
// the caller must Verify it under its own trust policy. A failure to fetch or
// parse is returned wrapped as is; a certificate of another entry is a
// *VerifyError with reason ErrReceiptMismatch.
func Complete(ctx context.Context, r *Receipt, hc *http.Client) (*Certificate, error) {
	c, err := NewFetcher(r.Server, r.Log, hc).Certificate(ctx, r.Index)
	if err != nil {
		return nil, fmt.Errorf("complete receipt from %s: %w", r.URL(), err)
	}
	if err := r.Match(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Match checks that a certificate is of the entry the receipt names: the same
// index, a checkpoint of the same origin, and an entry whose SHA-256 is the
// receipt's entry hash. Together with Verify, which binds the entry to the
// checkpoint's tree at that index, this proves the receipt's entry is in the
// log.
func (r *Receipt) Match(c *Certificate) error {
	if c.Index != r.Index {
		return refuse(ErrReceiptMismatch, nil, "the receipt names entry %d, the server's certificate is of entry %d", r.Index, c.Index)
	}
	origin, err := checkpointOrigin(c.Checkpoint)
	if err != nil {
		return err
	}
	if origin != r.Origin {
		return refuse(ErrReceiptMismatch, nil, "the receipt names log %q, the server's checkpoint is of %q", r.Origin, origin)
	}
	if h := entry.Hash(c.Entry); h != r.EntryHash {
		return refuse(ErrReceiptMismatch, nil, "entry %d: the receipt names entry hash %s, the server's entry hashes to %s",
			r.Index, base64.RawURLEncoding.EncodeToString(r.EntryHash[:]), base64.RawURLEncoding.EncodeToString(h[:]))
	}
	return nil
}
