package log

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// ErrBadPolicy is returned for a trust policy that is not valid c2sp.org/tlog-policy.
var ErrBadPolicy = errors.New("bad trust policy")

// ErrQuorum is returned when a checkpoint's cosignatures do not meet a policy's quorum.
var ErrQuorum = errors.New("witness quorum not met")

// Policy limits: the spec recommends supporting at least 32 of each.
const (
	MaxPolicySize    = 64 << 10
	maxPolicyLogs    = 256
	maxPolicyMembers = 256
)

// PolicyLog is a log line of a policy.
type PolicyLog struct {
	VKey     string
	URL      string // optional
	Verifier note.Verifier
}

// PolicyWitness is a witness line of a policy.
type PolicyWitness struct {
	Name     string
	VKey     string // the cosignature/v1 key as written
	URL      string // optional: the witness's submission prefix
	Verifier note.Verifier
}

// Policy is a parsed c2sp.org/tlog-policy trust policy: known logs, known
// witnesses, and the quorum of cosignatures a checkpoint needs.
type Policy struct {
	Logs      []PolicyLog
	Witnesses []PolicyWitness
	quorum    *policyNode // nil for "quorum none"
}

// policyNode is a witness (witness >= 0) or a group of k of its children.
type policyNode struct {
	witness  int
	k        int
	children []*policyNode
}

// ParsePolicy parses a trust policy strictly: unknown keywords, duplicate names or
// keys, forward references, thresholds out of range, and control characters other
// than tab are refused.
func ParsePolicy(text []byte) (*Policy, error) {
	if len(text) > MaxPolicySize {
		return nil, fmt.Errorf("%w: %d bytes is over the limit of %d", ErrBadPolicy, len(text), MaxPolicySize)
	}
	for _, c := range text {
		// SPEC(tlog-policy): the only allowed control characters are tab and newline.
		if (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f {
			return nil, fmt.Errorf("%w: control character 0x%02x", ErrBadPolicy, c)
		}
	}
	p := &Policy{}
	names := map[string]*policyNode{}
	keys := map[string]bool{}
	quorumSeen := false
	for i, line := range strings.Split(string(text), "\n") {
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		errf := func(format string, a ...any) error {
			return fmt.Errorf("%w: line %d: %s", ErrBadPolicy, i+1, fmt.Sprintf(format, a...))
		}
		switch fields[0] {
		case "log":
			if len(fields) < 2 || len(fields) > 3 {
				return nil, errf("want: log <vkey> [<url>]")
			}
			v, raw, err := policyKey(fields[1], false)
			if err != nil {
				return nil, errf("%v", err)
			}
			if keys[raw] {
				return nil, errf("duplicate key")
			}
			keys[raw] = true
			l := PolicyLog{VKey: fields[1], Verifier: v}
			if len(fields) == 3 {
				if l.URL, err = policyURL(fields[2]); err != nil {
					return nil, errf("%v", err)
				}
			}
			if len(p.Logs) == maxPolicyLogs {
				return nil, errf("too many logs")
			}
			p.Logs = append(p.Logs, l)
		case "witness":
			if len(fields) < 3 || len(fields) > 4 {
				return nil, errf("want: witness <name> <vkey> [<url>]")
			}
			name := fields[1]
			if names[name] != nil || isPolicyKeyword(name) {
				return nil, errf("name %q is already defined or reserved", name)
			}
			v, raw, err := policyKey(fields[2], true)
			if err != nil {
				return nil, errf("%v", err)
			}
			if keys[raw] {
				return nil, errf("duplicate key")
			}
			keys[raw] = true
			w := PolicyWitness{Name: name, VKey: fields[2], Verifier: v}
			if len(fields) == 4 {
				if w.URL, err = policyURL(fields[3]); err != nil {
					return nil, errf("%v", err)
				}
			}
			if len(p.Witnesses) == maxPolicyMembers {
				return nil, errf("too many witnesses")
			}
			names[name] = &policyNode{witness: len(p.Witnesses)}
			p.Witnesses = append(p.Witnesses, w)
		case "group":
			if len(fields) < 4 {
				return nil, errf("want: group <name> <all|any|k> <name>...")
			}
			name, members := fields[1], fields[3:]
			if names[name] != nil || isPolicyKeyword(name) {
				return nil, errf("name %q is already defined or reserved", name)
			}
			if len(names) >= 2*maxPolicyMembers || len(members) > maxPolicyMembers {
				return nil, errf("too many groups or members")
			}
			g := &policyNode{witness: -1}
			seen := map[string]bool{}
			for _, m := range members {
				child := names[m]
				if child == nil || seen[m] {
					return nil, errf("member %q is undefined, defined later, or listed twice", m)
				}
				seen[m] = true
				g.children = append(g.children, child)
			}
			switch k := fields[2]; k {
			case "all":
				g.k = len(members)
			case "any":
				g.k = 1
			default:
				n, err := strconv.Atoi(k)
				if err != nil || n < 1 || n > len(members) || strconv.Itoa(n) != k {
					return nil, errf("threshold %q must be all, any, or 1..%d", k, len(members))
				}
				g.k = n
			}
			names[name] = g
		case "quorum":
			if len(fields) != 2 || quorumSeen {
				return nil, errf("want exactly one line: quorum <name>")
			}
			quorumSeen = true
			if fields[1] != "none" {
				if p.quorum = names[fields[1]]; p.quorum == nil {
					return nil, errf("quorum %q is not defined on a preceding line", fields[1])
				}
			}
		default:
			return nil, errf("unknown keyword %q", fields[0])
		}
	}
	if !quorumSeen {
		return nil, fmt.Errorf("%w: no quorum line", ErrBadPolicy)
	}
	return p, nil
}

func isPolicyKeyword(s string) bool {
	switch s {
	case "none", "all", "any", "log", "witness", "group", "quorum":
		return true
	}
	return false
}

// policyKey parses a vkey; witness keys must be cosignature/v1 (0x04) keys. It
// also returns the underlying public key, to find duplicates.
func policyKey(vkey string, witness bool) (note.Verifier, string, error) {
	_, typ, key, err := splitVKey(vkey)
	if err != nil {
		return nil, "", err
	}
	if witness && (typ != KeyTypeCosignatureV1 || len(key) != ed25519.PublicKeySize) {
		return nil, "", fmt.Errorf("witness key must be a cosignature/v1 (0x04) Ed25519 key")
	}
	if !witness && typ == KeyTypeCosignatureV1 {
		return nil, "", fmt.Errorf("log key must not be a cosignature key")
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		return nil, "", err
	}
	return v, string(key), nil
}

func policyURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("URL %q is not an http or https URL", s)
	}
	return s, nil
}

// Log returns the policy's log for checkpoints with this origin: the log whose
// key is named origin, as c2sp.org/tlog-policy requires, or else, for logs whose
// key name differs from their origin, the policy's only log.
func (p *Policy) Log(origin string) (PolicyLog, bool) {
	for _, l := range p.Logs {
		if l.Verifier.Name() == origin {
			return l, true
		}
	}
	if len(p.Logs) == 1 {
		return p.Logs[0], true
	}
	return PolicyLog{}, false
}

// Cosignature is one valid witness cosignature on a checkpoint.
type Cosignature struct {
	Witness string // the witness's name in the policy
	Time    time.Time
}

// VerifyCheckpoint opens a signed checkpoint of the log named origin and checks
// that its valid cosignatures, each no older than maxAge before now (maxAge 0
// means no limit), meet the quorum. It returns the checkpoint and the
// cosignatures that counted.
func (p *Policy) VerifyCheckpoint(msg []byte, origin string, now time.Time, maxAge time.Duration) (Checkpoint, []Cosignature, error) {
	l, ok := p.Log(origin)
	if !ok {
		return Checkpoint{}, nil, fmt.Errorf("%w: the policy has no log named %q", ErrUnverified, origin)
	}
	ws := make([]note.Verifier, len(p.Witnesses))
	for i, w := range p.Witnesses {
		ws[i] = w.Verifier
	}
	c, n, err := OpenCheckpoint(msg, origin, l.Verifier, ws...)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	signed := make([]bool, len(p.Witnesses))
	var cosigs []Cosignature
	var stale []string
	for _, s := range n.Sigs {
		for i, w := range p.Witnesses {
			if s.Name != w.Verifier.Name() || s.Hash != w.Verifier.KeyHash() {
				continue
			}
			t, err := CosignatureTime(s)
			if err != nil {
				continue
			}
			if maxAge > 0 && now.Sub(t) > maxAge {
				stale = append(stale, fmt.Sprintf("%s (%s old)", w.Name, now.Sub(t).Round(time.Second)))
				continue
			}
			if t.After(now.Add(10 * time.Minute)) {
				stale = append(stale, fmt.Sprintf("%s (from the future)", w.Name))
				continue
			}
			if !signed[i] {
				signed[i] = true
				cosigs = append(cosigs, Cosignature{Witness: w.Name, Time: t})
			}
		}
	}
	if p.quorum != nil && !p.quorum.met(signed) {
		msg := fmt.Sprintf("%d valid cosignatures", len(cosigs))
		if len(stale) > 0 {
			msg += "; too old or too new: " + strings.Join(stale, ", ")
		}
		return c, cosigs, fmt.Errorf("%w: %s", ErrQuorum, msg)
	}
	return c, cosigs, nil
}

func (n *policyNode) met(signed []bool) bool {
	if n.witness >= 0 {
		return signed[n.witness]
	}
	count := 0
	for _, c := range n.children {
		if c.met(signed) {
			count++
		}
	}
	return count >= n.k
}
