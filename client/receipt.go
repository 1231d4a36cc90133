package client

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
)

// MaxReceiptSize is the longest receipt ParseReceipt accepts. A receipt of a
// real deployment is about 130 bytes; 512 still fits a QR code of version 17 at
// error correction level M.
const MaxReceiptSize = 512

// receiptTag opens a receipt's fragment and names the receipt format's version.
const receiptTag = "tab1"

// ErrMalformedReceipt is returned for a receipt that is not in its one
// canonical form.
var ErrMalformedReceipt = errors.New("malformed receipt")

// Receipt is the compact form of a certificate for a QR code: it names an
// entry (its log's origin, its index and its entry hash) and where to fetch
// its certificate. A receipt proves nothing by itself: Complete fetches the
// certificate and checks that it is of the entry the receipt names, and Verify
// then checks that certificate under the verifier's trust policy. The server
// named in a receipt is therefore not trusted; the policy is.
//
// Its text is the URL of the certificate at the log server's proof endpoint,
// with the origin and entry hash in the fragment:
//
//	<server>/logs/<log>/proof/<index>#tab1:<origin>:<entry hash>
//
// for example
//
//	https://registry.example/logs/land/proof/42#tab1:registry.example/land:8Xr…Q
//
// where the entry hash is the SHA-256 of the entry in unpadded base64url (43
// characters). A phone that opens the URL downloads the certificate; the
// fragment is not sent to the server.
type Receipt struct {
	// Server is the log server's base URL: http or https, a lowercase host, an
	// optional port other than the scheme's default and an optional path,
	// with no trailing slash.
	Server string
	// Log is the log's name on the server, as in /logs/{name}/.
	Log       string
	Origin    string
	Index     uint64
	EntryHash [32]byte
}

// The log name and origin forms are those the tabularium server accepts in its
// configuration; both need no escaping in a URL path or fragment.
var (
	receiptLogRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	receiptOriginRE = regexp.MustCompile(`^[A-Za-z0-9._~/:-]{1,255}$`)
	receiptHostRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	receiptSegRE    = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
)

// ReceiptFor returns the receipt of a certificate, to be fetched from the log
// named logName on the server at server. It checks the form of the
// certificate's checkpoint and entry, not their signatures: Verify does that
// when the receipt is completed.
func ReceiptFor(c *Certificate, server, logName string) (*Receipt, error) {
	origin, err := checkpointOrigin(c.Checkpoint)
	if err != nil {
		return nil, err
	}
	e, err := entry.Parse(c.Entry)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %d: %w", ErrMalformedCertificate, c.Index, err)
	}
	if e.Payload.Log != origin {
		return nil, fmt.Errorf("%w: the entry names log %q, the checkpoint is of %q", ErrMalformedCertificate, e.Payload.Log, origin)
	}
	r := &Receipt{Server: strings.TrimRight(server, "/"), Log: logName, Origin: origin, Index: c.Index, EntryHash: e.Hash}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkpointOrigin returns the origin line of a signed checkpoint, checking the
// form of its body only.
func checkpointOrigin(msg []byte) (string, error) {
	body, _, _ := bytes.Cut(msg, []byte("\n\n"))
	cp, err := log.ParseCheckpoint(append(bytes.Clone(body), '\n'))
	if err != nil {
		return "", fmt.Errorf("%w: checkpoint: %w", ErrMalformedCertificate, err)
	}
	return cp.Origin, nil
}

// check refuses a receipt whose fields have no canonical text.
func (r *Receipt) check() error {
	if err := checkServer(r.Server); err != nil {
		return err
	}
	if !receiptLogRE.MatchString(r.Log) {
		return fmt.Errorf("%w: log name %q is not lowercase letters, digits and dashes", ErrMalformedReceipt, r.Log)
	}
	if !receiptOriginRE.MatchString(r.Origin) {
		return fmt.Errorf("%w: origin %q has characters other than A-Z a-z 0-9 . _ ~ / : -", ErrMalformedReceipt, r.Origin)
	}
	return nil
}

// Marshal returns the receipt's canonical text.
func (r *Receipt) Marshal() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	s := r.URL() + "#" + receiptTag + ":" + r.Origin + ":" + base64.RawURLEncoding.EncodeToString(r.EntryHash[:])
	if len(s) > MaxReceiptSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformedReceipt, len(s), MaxReceiptSize)
	}
	return []byte(s), nil
}

// URL returns the address of the entry's certificate, the receipt without its
// fragment.
func (r *Receipt) URL() string {
	return r.Server + "/logs/" + r.Log + "/proof/" + strconv.FormatUint(r.Index, 10)
}

// ParseReceipt parses a receipt strictly: only the text Marshal produces is
// accepted, with no surrounding space or newline.
func ParseReceipt(text []byte) (*Receipt, error) {
	if len(text) > MaxReceiptSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformedReceipt, len(text), MaxReceiptSize)
	}
	s := string(text)
	addr, frag, ok := strings.Cut(s, "#")
	if !ok {
		return nil, fmt.Errorf("%w: no #%s fragment", ErrMalformedReceipt, receiptTag)
	}
	fields, ok := strings.CutPrefix(frag, receiptTag+":")
	if !ok {
		return nil, fmt.Errorf("%w: the fragment does not start with %q", ErrMalformedReceipt, receiptTag+":")
	}
	// The origin may contain colons; the hash, last, does not.
	i := strings.LastIndexByte(fields, ':')
	if i < 0 {
		return nil, fmt.Errorf("%w: no entry hash", ErrMalformedReceipt)
	}
	r := &Receipt{Origin: fields[:i]}
	if err := parseEntryHash(fields[i+1:], &r.EntryHash); err != nil {
		return nil, err
	}
	if err := parseProofURL(addr, r); err != nil {
		return nil, err
	}
	// Each part was parsed canonically; compare the whole as a safeguard.
	re, err := r.Marshal()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(re, text) {
		return nil, fmt.Errorf("%w: not in canonical form", ErrMalformedReceipt)
	}
	return r, nil
}

// parseEntryHash decodes 32 bytes of canonical unpadded base64url.
func parseEntryHash(s string, h *[32]byte) error {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != s {
		return fmt.Errorf("%w: entry hash %q is not 32 bytes of unpadded base64url", ErrMalformedReceipt, s)
	}
	copy(h[:], b)
	return nil
}

// parseProofURL splits <server>/logs/<log>/proof/<index> into r.
func parseProofURL(addr string, r *Receipt) error {
	rest, idx, ok := cutLast(addr, "/proof/")
	if !ok {
		return fmt.Errorf("%w: the address does not end in /proof/INDEX", ErrMalformedReceipt)
	}
	index, err := strconv.ParseUint(idx, 10, 64)
	if err != nil || strconv.FormatUint(index, 10) != idx {
		return fmt.Errorf("%w: index %q is not a decimal number without leading zeros", ErrMalformedReceipt, idx)
	}
	rest, name, ok := cutLast(rest, "/")
	if !ok || !strings.HasSuffix(rest, "/logs") {
		return fmt.Errorf("%w: the address does not end in /logs/NAME/proof/INDEX", ErrMalformedReceipt)
	}
	r.Server, r.Log, r.Index = strings.TrimSuffix(rest, "/logs"), name, index
	return r.check()
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// checkServer accepts a base URL in canonical form only: http or https, a
// lowercase DNS name, IPv4 address or bracketed canonical IPv6 address, a port
// only if it is not the scheme's default, and path segments without dot
// segments, escapes or a trailing slash.
func checkServer(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: server %q: %s", ErrMalformedReceipt, s, why)
	}
	rest, ok := strings.CutPrefix(s, "https://")
	defaultPort := "443"
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return bad("not an http:// or https:// URL")
		}
		defaultPort = "80"
	}
	authority, path, _ := strings.Cut(rest, "/")
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return bad("unterminated IPv6 address")
		}
		a, err := netip.ParseAddr(authority[1:end])
		if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" || a.String() != authority[1:end] {
			return bad("not a canonical IPv6 address")
		}
		host, port = "", authority[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return bad("junk after the IPv6 address")
		}
		port = strings.TrimPrefix(port, ":")
	} else {
		if h, p, ok := strings.Cut(authority, ":"); ok {
			host, port = h, p
			if port == "" {
				return bad("empty port")
			}
		}
		if len(host) > 253 || !receiptHostRE.MatchString(host) {
			return bad("the host is not a lowercase DNS name or IPv4 address")
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 || strconv.FormatUint(n, 10) != port {
			return bad("the port is not a number from 1 to 65535 without leading zeros")
		}
		if port == defaultPort {
			return bad("the scheme's default port is written out")
		}
	}
	if path == "" && strings.HasSuffix(rest, "/") {
		return bad("trailing slash")
	}
	if path != "" {
		for _, seg := range strings.Split(path, "/") {
			if !receiptSegRE.MatchString(seg) || seg == "." || seg == ".." {
				return bad("the path has an empty, dot or escaped segment, or a trailing slash")
			}
		}
	}
	return nil
}
