package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/witness"
	"github.com/tabularium/tabularium/witness/sqlstore"
)

// Defaults of tabularium dev.
const (
	DefaultDevData = "tabularium-dev"
	devWitnesses   = 3
	devQuorum      = 2
)

// runDev starts, in one process on loopback, the log server with its three logs
// and three witnesses under a 2-of-3 policy, seeds a small demo registry on first
// start, and writes the trust policy and sample certificates.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", DefaultDevData, "data folder of the demo stack")
	listen := fs.String("listen", DefaultListen, "loopback address of the demo stack")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := commandLogger(fs, *logLevel, stderr)
	if err != nil {
		return err
	}

	cfg := DefaultConfig(*data)
	cfg.Listen, cfg.MetricsListen = *listen, "off"
	if err := cfg.Validate(); err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(cfg.Listen); !loopbackHost(host) {
		return fmt.Errorf("dev listens on loopback only; %q is not a loopback address", cfg.Listen)
	}
	base := "http://" + cfg.Listen
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return err
	}
	routes, policy, err := devWitnessRoutes(ctx, cfg, base, logger)
	if err != nil {
		return err
	}
	policyPath := filepath.Join(cfg.Data, "trust.policy")
	if err := os.WriteFile(policyPath, []byte(policy), 0o644); err != nil {
		return err
	}
	for i := range cfg.Logs {
		cfg.Logs[i].WitnessPolicy = policyPath
		cfg.Logs[i].CheckpointInterval = 500 * time.Millisecond
		cfg.Logs[i].RepublishInterval = 30 * time.Second
	}
	hooks := serveHooks{routes: routes, ready: func(ctx context.Context, s *server, url string) error {
		// The registries' root keys are known once they are open: add them, so
		// that tab verify proves the signers' roles up to them.
		if err := os.WriteFile(policyPath, []byte(policy+devRoots(s)), 0o644); err != nil {
			return err
		}
		if err := seedDemo(ctx, s, cfg.Data, logger); err != nil {
			return fmt.Errorf("seed the demo registry: %w", err)
		}
		printDevHelp(stdout, cfg.Data, url)
		return nil
	}}
	return serve(ctx, cfg, logger, stdout, hooks)
}

// devRoots returns the trust policy's lines naming every log's root keys
// (client.ParseRoots).
func devRoots(s *server) string {
	var b strings.Builder
	b.WriteString("# The root authority keys that grant the registries' roles; tab verify proves\n# the signers' roles up to them.\n")
	for _, sl := range s.logs {
		fmt.Fprintf(&b, "# %s %s", client.RootsDirective, sl.log.Origin())
		for _, k := range sl.reg.Config().Roots {
			fmt.Fprintf(&b, " %s", k)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// devWitnessRoutes makes (on first start) or loads the keys of three witnesses
// that each witness all three logs, mounts them under /witnesses/wN/, and returns
// the trust policy: every log's key, every witness's key with its URL, 2 of 3.
func devWitnessRoutes(ctx context.Context, cfg Config, base string, logger *slog.Logger) (map[string]http.Handler, string, error) {
	var logs []witness.Log
	var policy strings.Builder
	policy.WriteString("# Trust policy of the tabularium dev stack (c2sp.org/tlog-policy).\n")
	for _, lc := range cfg.Logs {
		skey, err := logKey(lc, logger)
		if err != nil {
			return nil, "", err
		}
		vkey, err := log.VerifierKey(skey)
		if err != nil {
			return nil, "", err
		}
		logs = append(logs, witness.Log{Origin: lc.Origin, VKey: vkey})
		fmt.Fprintf(&policy, "log %s %s/logs/%s/\n", vkey, base, lc.Name)
	}
	routes := map[string]http.Handler{}
	var names []string
	for i := 1; i <= devWitnesses; i++ {
		name := fmt.Sprintf("w%d", i)
		skey, _, err := keyfile.ReadOrCreate(filepath.Join(cfg.Data, "keys", "witness-"+name+".key"), func() (string, error) {
			sk, _, err := log.GenerateKey(name + ".witness.tabularium.local")
			return sk, err
		})
		if err != nil {
			return nil, "", err
		}
		if err := os.MkdirAll(filepath.Join(cfg.Data, "state"), 0o700); err != nil {
			return nil, "", err
		}
		store, err := sqlstore.OpenSQLite(ctx, filepath.Join(cfg.Data, "state", "witness-"+name+".db"))
		if err != nil {
			return nil, "", err
		}
		w, err := witness.New(witness.Config{SignerKey: skey, Logs: logs, Store: store, Logger: logger.With("witness", name)})
		if err != nil {
			return nil, "", errors.Join(err, store.Close())
		}
		prefix := "/witnesses/" + name
		routes[prefix+"/"] = http.StripPrefix(prefix, w)
		fmt.Fprintf(&policy, "witness %s %s %s%s\n", name, w.VerifierKey(), base, prefix)
		names = append(names, name)
	}
	fmt.Fprintf(&policy, "group witnesses %d %s\nquorum witnesses\n", devQuorum, strings.Join(names, " "))
	if _, err := log.ParsePolicy([]byte(policy.String())); err != nil {
		return nil, "", fmt.Errorf("dev trust policy: %w", err)
	}
	return routes, policy.String(), nil
}

func printDevHelp(w io.Writer, data, url string) {
	fmt.Fprintf(w, `
Tabularium dev stack: three logs, three witnesses (2 of 3), a small demo registry.
  logs:          %[2]s/logs
  trust policy:  %[1]s/trust.policy
  certificates:  %[1]s/samples/
  demo keys:     %[1]s/demo/keys/

Try:
  go run ./cmd/tab verify --policy %[1]s/trust.policy %[1]s/samples/diploma-alice.tlog-proof
  go run ./cmd/tab verify --policy %[1]s/trust.policy %[1]s/samples/vaccination-revoked.tlog-proof
  go run ./cmd/tab object --server %[2]s --log land land/parcel-1
  go run ./cmd/tab object --server %[2]s --log vaccinations %[3]s   # the revoked one
  curl -s %[2]s/logs/land/checkpoint
  go run ./cmd/tab bench --server %[2]s --data %[1]s --mix vaccination --duration 10s

Stop with Ctrl-C.
`, data, url, credentialObject("vaccination", "VAC-3"))
}
