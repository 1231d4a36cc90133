package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/entry"
)

// logTarget is the log an audit or a watch reads and how its checkpoints are
// trusted; the flags are shared by tab audit and tab watch.
type logTarget struct {
	server, log, origin string // flags
	policyFile, logKey  string
	data                string

	serverURL, name string // resolved
	fetcher         *client.Fetcher
	policy          *log.Policy
}

func (lt *logTarget) flags(fs *flag.FlagSet) {
	fs.StringVar(&lt.server, "server", "http://127.0.0.1:8080", "server base URL")
	fs.StringVar(&lt.log, "log", "", "the log's name or origin (with --server), or its URL: https://host/logs/NAME")
	fs.StringVar(&lt.origin, "origin", "", "the log's origin (default: as GET /logs lists it)")
	fs.StringVar(&lt.policyFile, "policy", "", "trust policy (c2sp.org/tlog-policy): the log's key and witness quorum")
	fs.StringVar(&lt.logKey, "log-key", "", "the log's checkpoint verifier key, when there is no --policy")
	fs.StringVar(&lt.data, "data", "", "the server's data folder: the log's key and root authority key in <data>/keys/")
}

// resolve parses the flags into a fetcher, a trust policy and the origin.
func (lt *logTarget) resolve(ctx context.Context, c *http.Client) error {
	lt.serverURL, lt.name = strings.TrimRight(lt.server, "/"), lt.log
	if base, name, ok := strings.Cut(lt.log, "/logs/"); ok && strings.Contains(base, "://") {
		lt.serverURL, lt.name = base, strings.Trim(name, "/")
	}
	if lt.name == "" {
		return errors.New("--log must name a log, give its origin, or be a URL ending in /logs/NAME")
	}
	if !isLogName(lt.name) {
		in, err := lookupLog(ctx, c, lt.serverURL, lt.name)
		if err != nil {
			return fmt.Errorf("--log %s: %w", lt.name, err)
		}
		lt.name = in.Name
		if lt.origin == "" {
			lt.origin = in.Origin
		}
	}
	lt.fetcher = client.NewFetcher(lt.serverURL, lt.name, c)
	var err error
	switch {
	case lt.policyFile != "":
		var b []byte
		if b, err = readLimited(lt.policyFile, log.MaxPolicySize); err == nil {
			lt.policy, err = log.ParsePolicy(b)
		}
	case lt.logKey != "":
		lt.policy, err = client.PolicyForKey(lt.logKey)
	case lt.data != "":
		var skey, vkey string
		if skey, err = keyfile.Read(filepath.Join(lt.data, "keys", lt.name+".key")); err == nil {
			if vkey, err = log.VerifierKey(skey); err == nil {
				lt.policy, err = client.PolicyForKey(vkey)
			}
		}
	default:
		return errors.New("say how to trust the log's checkpoints: --policy FILE, --log-key VKEY or --data DIR")
	}
	if err != nil {
		return err
	}
	if lt.origin == "" {
		if lt.origin, err = lt.lookupOrigin(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// lookupOrigin finds the log's origin in the server's GET /logs; the answer is
// not trusted, since the checkpoint must then verify under the policy.
func (lt *logTarget) lookupOrigin(ctx context.Context, c *http.Client) (string, error) {
	in, err := lookupLog(ctx, c, lt.serverURL, lt.name)
	if err != nil {
		return "", fmt.Errorf("%w (or give --origin)", err)
	}
	return in.Origin, nil
}

// rootKeyFromData returns the public root authority key of the log in the
// server's data folder, <data>/keys/<name>-root.key.
func rootKeyFromData(data, name string) (entry.PublicKey, error) {
	k, err := readKey(dataRootKey(data, name))
	if err != nil {
		return "", fmt.Errorf("root authority key: %w", err)
	}
	return k.Public, nil
}
