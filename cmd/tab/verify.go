package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/log"
)

// runVerify checks a certificate offline: it reads only the policy and the
// certificate files and never touches the network. The policy's
// "# tabularium-roots <origin> <key>..." lines name the root keys trusted to
// grant roles; with them the signers' roles are proven as recorded. A receipt (the argument
// itself, a file, or a PNG of its QR code) of a log the policy lists is first
// completed online, from the policy's URL for the log if it has one, else from
// the server the receipt names; a receipt of any other log is refused before
// any request. The certificate fetched must be of the entry the receipt names,
// and is then verified offline like any other.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer, now time.Time) error {
	fs := newFlagSet("verify", stderr)
	policyPath := fs.String("policy", "", "trust policy file (c2sp.org/tlog-policy)")
	maxAge := fs.Duration("max-age", 0, "refuse witness cosignatures older than this, e.g. 720h (default: no limit)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *policyPath == "" || len(pos) != 1 {
		return errors.New("verify needs --policy POLICY and one CERT or RECEIPT")
	}
	certPath := pos[0]
	if *maxAge < 0 {
		return errors.New("--max-age must not be negative")
	}
	pt, err := readLimited(*policyPath, log.MaxPolicySize)
	if err != nil {
		return err
	}
	p, err := log.ParsePolicy(pt)
	if err != nil {
		return err
	}
	roots, err := client.ParseRoots(pt, p)
	if err != nil {
		return fmt.Errorf("%s: %w", *policyPath, err)
	}
	c, r, err := readEvidence(certPath)
	if err != nil {
		return fmt.Errorf("REFUSED %s: %w", certPath, err)
	}
	var from string
	if r != nil {
		var ve *client.VerifyError
		f, err := r.Source(p, httpClient)
		if err != nil {
			return fmt.Errorf("REFUSED %s: %w", certPath, err)
		}
		from = f.CertificateURL(r.Index)
		c, err = client.Complete(ctx, p, r, httpClient)
		if errors.As(err, &ve) {
			return fmt.Errorf("REFUSED %s: %w", certPath, err)
		}
		if err != nil {
			return fmt.Errorf("cannot complete the receipt: %w", err)
		}
	}
	s, err := client.VerifyWithRoots(p, roots, c, now, *maxAge)
	if err != nil {
		return fmt.Errorf("REFUSED %s: %w", certPath, err)
	}
	fmt.Fprint(stdout, s)
	if r != nil {
		fmt.Fprintf(stdout, "  receipt:    completed online from %s\n", from)
	}
	return nil
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is over %d bytes", path, limit)
	}
	return b, nil
}
