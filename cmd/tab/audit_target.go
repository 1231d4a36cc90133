package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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
	fs.StringVar(&lt.log, "log", "", "log name (with --server), or the log's URL: https://host/logs/NAME")
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
	if lt.name == "" || strings.Contains(lt.name, "/") {
		return errors.New("--log must name a log, or be a URL ending in /logs/NAME")
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lt.serverURL+"/logs", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("list the server's logs (or give --origin): %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("list the server's logs (or give --origin): %s", resp.Status)
	}
	var infos []logInfo // GET /logs, as tab bench reads it
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&infos); err != nil {
		return "", fmt.Errorf("list the server's logs: %w", err)
	}
	for _, in := range infos {
		if in.Name == lt.name {
			return in.Origin, nil
		}
	}
	return "", fmt.Errorf("the server has no log named %q", lt.name)
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
