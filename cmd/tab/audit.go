package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// defaultRecoveryWait is the server's default waiting period of a key
// recovery (tabularium's recovery_wait), which the replay must share.
const defaultRecoveryWait = 14 * 24 * time.Hour

// errAuditFailed is returned when the audit ran and found something wrong;
// the report on stdout says what.
var errAuditFailed = errors.New("audit failed")

// runAudit replays a whole log through the registry's rules and reports
// every entry they refuse, and any served state that differs.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", stderr)
	var lt logTarget
	lt.flags(fs)
	var roots repeated
	fs.Var(&roots, "root", "a root authority public key of the registry (repeat for several); or give --data")
	kind := fs.String("kind", "", "registry kind: land, diplomas or vaccinations (default: the log's name)")
	recoveryWait := fs.Duration("recovery-wait", defaultRecoveryWait, "the registry's key recovery wait, as configured on the server")
	stateDir := fs.String("state", "", "folder keeping the audit's position, replayed state and last checkpoint; a rerun resumes (default: none, audit from the start)")
	compare := fs.Bool("compare-state", false, "compare every replayed object with the server's GET /objects")
	maxAge := fs.Duration("max-age", 0, "refuse witness cosignatures older than this (default: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("audit takes no arguments, got %q", fs.Args())
	}
	if err := lt.resolve(ctx, httpClient); err != nil {
		return err
	}
	cfg := rules.Config{Log: lt.origin, Kind: *kind, RecoveryWait: int64(recoveryWait.Seconds())}
	if cfg.Kind == "" {
		cfg.Kind = lt.name
	}
	for _, r := range roots {
		cfg.Roots = append(cfg.Roots, entry.PublicKey(r))
	}
	if len(cfg.Roots) == 0 && lt.data != "" {
		k, err := rootKeyFromData(lt.data, lt.name)
		if err != nil {
			return err
		}
		cfg.Roots = []entry.PublicKey{k}
	}
	if len(cfg.Roots) == 0 {
		return errors.New("audit needs the registry's root keys: --root KEY... or --data DIR")
	}
	st, err := client.OpenAuditState(*stateDir)
	if err != nil {
		return err
	}
	opts := client.AuditOptions{Policy: lt.policy, MaxAge: *maxAge, Progress: progressBar(stderr)}
	if *compare {
		opts.Objects = lt.fetcher
	}
	rep, err := client.Audit(ctx, lt.fetcher, cfg, st, opts)
	if opts.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		if printEvidence(stdout, err) {
			return fmt.Errorf("%w: %v", errAuditFailed, err)
		}
		return err
	}
	printReport(stdout, rep, *compare)
	if !rep.Clean() {
		return fmt.Errorf("%w: %d entries broke a rule, %d objects' served state differs", errAuditFailed, len(rep.Violations), len(rep.Diffs))
	}
	return nil
}

// printEvidence prints the evidence of a log that is inconsistent with what
// the auditor saw before or with itself, and reports whether err was one.
func printEvidence(w io.Writer, err error) bool {
	var fe *client.ForkError
	var te *client.TreeError
	switch {
	case errors.As(err, &fe):
		fmt.Fprintf(w, "LOG INCONSISTENT: %v\n\ncheckpoint seen before (size %d):\n%s\nnow shown checkpoint (size %d):\n%s\n", fe.Kind, fe.OldSize, indent(fe.Old), fe.NewSize, indent(fe.New))
		if len(fe.Proof) > 0 {
			fmt.Fprintf(w, "consistency proof served, which fails:\n")
			for _, h := range fe.Proof {
				fmt.Fprintf(w, "  %s\n", base64.StdEncoding.EncodeToString(h))
			}
		}
		fmt.Fprintf(w, "reason: %v\n", fe.Err)
		return true
	case errors.As(err, &te):
		fmt.Fprintf(w, "LOG INCONSISTENT: %v\n\ncheckpoint:\n%s\n", te, indent(te.Checkpoint))
		return true
	}
	return false
}

func indent(note []byte) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(string(note), "\n"), "\n", "\n  ") + "\n"
}

// printReport prints an audit's findings.
func printReport(w io.Writer, r *client.AuditReport, compared bool) {
	fmt.Fprintf(w, "audited %s: %d entries", r.Origin, r.Size)
	if r.Start > 0 {
		fmt.Fprintf(w, " (this run from entry %d)", r.Start)
	}
	fmt.Fprintf(w, ", %d objects\ncheckpoint:\n%s", r.Objects, indent(r.Checkpoint))
	for _, v := range r.Violations {
		fmt.Fprintf(w, "RULE BROKEN by entry %d: %s: %s\n", v.Index, v.Code, v.Message)
	}
	for _, d := range r.Diffs {
		mine, _ := json.Marshal(d.Replayed)
		served := []byte("(none)")
		if d.Served != nil {
			served, _ = json.Marshal(d.Served)
		}
		fmt.Fprintf(w, "STATE DIFFERS for %s:\n  replayed: %s\n  served:   %s\n", d.ID, mine, served)
	}
	if compared {
		fmt.Fprintf(w, "compared %d objects with the served state (%d changed after the checkpoint, not compared)\n", r.Compared, r.Newer)
	}
	if r.Clean() {
		fmt.Fprintln(w, "OK: every entry obeys the registry's rules")
	}
}

// progressBar returns a progress callback drawing a bar on w when it is a
// terminal, or nil.
func progressBar(w io.Writer) func(client.AuditProgress) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var last time.Time
	return func(p client.AuditProgress) {
		if time.Since(last) < 100*time.Millisecond && p.Done != p.Total {
			return
		}
		last = time.Now()
		const width = 40
		frac := 1.0
		if p.Total > 0 {
			frac = float64(p.Done) / float64(p.Total)
		}
		n := int(frac * width)
		fmt.Fprintf(f, "\r[%s%s] %5.1f%% %d/%d entries", strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, p.Done, p.Total)
	}
}
