package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
)

// ErrReceiptMismatch is the reason of a *VerifyError for a certificate that is
// not of the entry its receipt names: the server answered with another index,
// another log or another entry. The caller must not verify or show it: a
// server that swaps entries is either broken or lying.
var ErrReceiptMismatch = errors.New("the server's certificate is not of the entry the receipt names")

// Source returns the fetcher of the receipt's certificate under the trust
// policy p, without any request: a receipt is text anyone can print in a QR
// code, so where it says to go is decided by the policy. A receipt of a log
// the policy does not list (no log line whose key is named the receipt's
// origin) is a *VerifyError with reason ErrUnknownLog, and its server is never
// contacted. For a listed log with a URL, the certificate is fetched from that
// URL, the log's base (GET <url>proof/<index>), whatever server the receipt
// names; for one without, from the receipt's server.
func (r *Receipt) Source(p *log.Policy, hc *http.Client) (*Fetcher, error) {
	for _, l := range p.Logs {
		if l.Verifier.Name() != r.Origin {
			continue
		}
		if l.URL == "" {
			return NewFetcher(r.Server, r.Log, hc), nil
		}
		return &Fetcher{Base: strings.TrimRight(l.URL, "/") + "/", Client: hc}, nil
	}
	return nil, refuse(ErrUnknownLog, nil, "the receipt names log %q, which the trust policy does not list; its server %s was not contacted", r.Origin, r.Server)
}

// Complete fetches the certificate of the entry a receipt names from where
// Source says, before any request refusing a receipt of a log the policy does
// not list, and returns it only if Match accepts it. The certificate is not yet
// verified: the caller must Verify it under the same trust policy. A failure
// to fetch or parse is returned wrapped as is; a certificate of another entry
// is a *VerifyError with reason ErrReceiptMismatch.
func Complete(ctx context.Context, p *log.Policy, r *Receipt, hc *http.Client) (*Certificate, error) {
	f, err := r.Source(p, hc)
	if err != nil {
		return nil, err
	}
	c, err := f.Certificate(ctx, r.Index)
	if err != nil {
		return nil, fmt.Errorf("complete receipt from %s: %w", f.CertificateURL(r.Index), err)
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
