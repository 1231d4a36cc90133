package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tabularium/tabularium/personality/api"
)

// item is one prepared submission.
type item struct {
	target *target
	body   []byte
	hash   [32]byte // entry hash, checked against the receipt; zero for raw bodies
	object string   // the object the entry changes; "" for raw bodies
	chain  int      // the worker's chain (parcel) the entry continues, or -1
	sigs   int      // signatures the server verifies
}

// result is the outcome of one submission after its retries.
type result struct {
	index   uint64
	retries int    // 503 answers honoured before the final one
	kind    string // "" on success, else the error kind, e.g. "409 stale-prev"
}

// sender posts items, honouring 503 with Retry-After.
type sender struct {
	hc *http.Client
	// maxRetryAfter caps one wait, so a confused server cannot stall the run.
	maxRetryAfter time.Duration
}

// submit posts it until the answer is not 503. The error is non-nil only if
// ctx ended first; the server's refusals are in result.kind.
func (s *sender) submit(ctx context.Context, it *item) (result, error) {
	var r result
	for {
		status, body, retry, err := s.post(ctx, it)
		if err != nil {
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			r.kind = "transport"
			return r, nil
		}
		if status == http.StatusServiceUnavailable {
			r.retries++
			select {
			case <-ctx.Done():
				return r, ctx.Err()
			case <-time.After(min(retry, s.maxRetryAfter)):
			}
			continue
		}
		r.index, r.kind = decodeAnswer(it, status, body)
		return r, nil
	}
}

func (s *sender) post(ctx context.Context, it *item) (status int, body []byte, retry time.Duration, err error) {
	u, ct := it.target.base+"entries", api.ContentType
	if it.target.kind == "raw" {
		u, ct = it.target.base, "application/octet-stream"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(it.body))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Content-Type", ct)
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, nil, 0, err
	}
	return resp.StatusCode, body, retryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// retryAfter decodes a Retry-After header, delay-seconds or HTTP-date
// (RFC 9110 §10.2.3); anything else means one second.
func retryAfter(v string, now time.Time) time.Duration {
	if s, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return time.Second
}

// decodeAnswer returns the index of an accepted entry, or the error kind: the
// status and the server's error code.
func decodeAnswer(it *item, status int, body []byte) (uint64, string) {
	if status != http.StatusOK {
		var e api.ErrorResponse
		if json.Unmarshal(body, &e) == nil && e.Code != "" {
			return 0, fmt.Sprintf("%d %s", status, e.Code)
		}
		return 0, strconv.Itoa(status)
	}
	if it.target.kind == "raw" {
		i, err := strconv.ParseUint(strings.TrimSpace(string(body)), 10, 64)
		if err != nil {
			return 0, "200 unreadable-index"
		}
		return i, ""
	}
	var sr api.SubmitResponse
	if err := json.Unmarshal(body, &sr); err != nil {
		return 0, "200 unreadable-receipt"
	}
	if sr.EntryHash != hex.EncodeToString(it.hash[:]) {
		return 0, "200 wrong-entry-hash"
	}
	if sr.Duplicate {
		return sr.Index, "200 duplicate"
	}
	return sr.Index, ""
}
