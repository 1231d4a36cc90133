package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/tabularium/tabularium/personality/rules"
)

// benchConfig is the parsed command line of tab bench.
type benchConfig struct {
	server        string
	mix           string
	duration      time.Duration
	count         int
	rate          float64
	clients       int
	waitPublished bool
	readRate      float64
	readClients   int
	rootKeys      map[string]string // log name → key file; "" for the only log
	data          string
	logNames      map[string]string // registry kind → log name
	serverPID     int
	prepare       int
	timeout       time.Duration
	drain         time.Duration
	rawAdd        string
	rawSize       int
	ceiling       float64
	progress      io.Writer
	keepObjects   bool // remember every acknowledged object for tests; not a flag
}

// Mixes and the registry kinds each one writes to.
var mixKinds = map[string][]string{
	"vaccination": {rules.KindVaccinations},
	"land":        {rules.KindLand},
	"mixed":       {rules.KindVaccinations, rules.KindLand, rules.KindDiplomas},
}

var logNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// pairFlag collects repeated NAME=VALUE (or bare VALUE, stored under "") flags.
type pairFlag map[string]string

func (p pairFlag) String() string { return fmt.Sprint(map[string]string(p)) }

func (p pairFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || !logNameRE.MatchString(k) {
		k, v = "", s
	}
	if _, dup := p[k]; dup {
		return fmt.Errorf("%q given twice", k)
	}
	p[k] = v
	return nil
}

func parseBenchFlags(args []string, stderr io.Writer) (*benchConfig, error) {
	c := &benchConfig{rootKeys: map[string]string{}, logNames: map[string]string{}, progress: stderr}
	fs := newFlagSet("bench", stderr)
	fs.StringVar(&c.server, "server", "http://127.0.0.1:8080", "server base URL")
	fs.StringVar(&c.mix, "mix", "vaccination", "vaccination, land or mixed")
	fs.DurationVar(&c.duration, "duration", 0, "how long to offer load (with --count: an upper bound)")
	fs.IntVar(&c.count, "count", 0, "number of entries to submit (bulk mode)")
	fs.Float64Var(&c.rate, "rate", 0, "offered entries/s, open loop (latency includes queueing); 0 = as fast as the server accepts")
	fs.IntVar(&c.clients, "clients", 512, "concurrent clients, each with its own parcels and connection; closed loop, throughput is at most clients / latency")
	fs.BoolVar(&c.waitPublished, "wait-published", false, "also measure latency until a published checkpoint covers each entry")
	fs.Float64Var(&c.readRate, "read-load", 0, "offered reads/s (object states and tiles), open loop; 0 = none")
	fs.IntVar(&c.readClients, "read-clients", 32, "concurrent readers for --read-load")
	rootKeys, logNames := pairFlag(c.rootKeys), pairFlag(c.logNames)
	fs.Var(rootKeys, "root-key", "[LOG=]FILE: the log's root authority key (mode 0600); repeat per log")
	fs.StringVar(&c.data, "data", "", "the server's data folder: read root keys where tabularium serve generates them")
	fs.StringVar(&c.data, "dev-data", "", "alias of --data: the data folder of tabularium dev (its keys/<log>-root.key)")
	fs.Var(logNames, "log", "[KIND=]NAME: log name of a registry kind (land, diplomas, vaccinations); default the kind")
	fs.IntVar(&c.serverPID, "server-pid", 0, "report this local process's resident memory (/proc/PID/status)")
	fs.IntVar(&c.prepare, "prepare", 0, "entries to sign before the clock starts (default --count, or rate×duration, or 50000)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "bound on one HTTP request")
	fs.DurationVar(&c.drain, "drain", 30*time.Second, "how long in-flight requests and publication may take after the run")
	fs.StringVar(&c.rawAdd, "raw-add", "", "instead of registry entries, POST random bodies to this URL (e.g. tessera's /add)")
	fs.IntVar(&c.rawSize, "raw-size", 300, "body size for --raw-add")
	fs.Float64Var(&c.ceiling, "verify-ceiling", 17000, "Ed25519 verifications/s the server's cores can do at most")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("bench takes no arguments, got %q", fs.Args())
	}
	return c, c.check()
}

// check refuses unsafe or meaningless combinations before anything is sent.
func (c *benchConfig) check() error {
	switch {
	case c.duration <= 0 && c.count <= 0:
		return errors.New("bench needs --duration or --count")
	case c.duration < 0 || c.count < 0 || c.rate < 0 || c.readRate < 0:
		return errors.New("--duration, --count, --rate and --read-load must not be negative")
	case c.clients < 1 || c.clients > 100000 || c.readClients < 1:
		return errors.New("--clients and --read-clients must be between 1 and 100000")
	case c.rawAdd != "" && (c.waitPublished || c.readRate > 0):
		return errors.New("--raw-add measures appends only; drop --wait-published and --read-load")
	case c.rawAdd != "" && (c.rawSize < 1 || c.rawSize > 1<<16):
		return errors.New("--raw-size must be between 1 and 65536")
	}
	if c.rawAdd != "" {
		return nil
	}
	kinds, ok := mixKinds[c.mix]
	if !ok {
		return fmt.Errorf("--mix %q is not vaccination, land or mixed", c.mix)
	}
	if c.mix == "mixed" && c.clients < len(kinds) {
		return fmt.Errorf("--mix mixed needs at least %d clients", len(kinds))
	}
	for k, name := range c.logNames {
		if k == "" && len(kinds) > 1 {
			return errors.New("with --mix mixed, name logs as --log KIND=NAME")
		}
		if k != "" && !contains(kinds, k) {
			return fmt.Errorf("--log %s=%s: the %s mix writes no %s entries", k, name, c.mix, k)
		}
	}
	if _, bare := c.rootKeys[""]; bare && len(kinds) > 1 {
		return errors.New("with --mix mixed, name root keys as --root-key LOG=FILE")
	}
	return nil
}

// logName returns the log a registry kind is written to.
func (c *benchConfig) logName(kind string) string {
	if n, ok := c.logNames[kind]; ok {
		return n
	}
	if n, ok := c.logNames[""]; ok {
		return n
	}
	return kind
}

// prepared returns how many entries to sign before the clock starts.
func (c *benchConfig) prepared() int {
	switch {
	case c.prepare > 0:
		return c.prepare
	case c.count > 0:
		return c.count
	case c.rate > 0:
		return int(c.rate*c.duration.Seconds()) + c.clients
	}
	return 50000
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	rep, err := bench(ctx, c)
	if err != nil {
		return err
	}
	return rep.write(stdout)
}

// newBenchClient returns an HTTP client that keeps one connection per
// concurrent client alive.
func newBenchClient(c *benchConfig) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = c.clients + c.readClients + 16
	return &http.Client{Transport: t, Timeout: c.timeout}
}
