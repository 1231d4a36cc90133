package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"

	tlog "github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// setup finds the logs of the mix and grants the bench its roles in each. It
// returns the logs and the generator of each worker.
func setup(ctx context.Context, hc *http.Client, s *sender, c *benchConfig) ([]*target, func(w int) generator, error) {
	if c.rawAdd != "" {
		t := &target{kind: "raw", name: "raw", base: c.rawAdd}
		return []*target{t}, func(int) generator { return &rawGen{t: t, size: c.rawSize} }, nil
	}
	targets, err := discoverTargets(ctx, hc, c)
	if err != nil {
		return nil, nil, err
	}
	acts := map[string]*actors{}
	var list []*target
	for _, kind := range mixKinds[c.mix] {
		t := targets[kind]
		root, err := rootKey(c, t.name)
		if err != nil {
			return nil, nil, err
		}
		if acts[kind], err = grantRoles(ctx, s, t, root, min(c.clients, 8)); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(c.progress, "bench: granted roles for %s entries in log %s\n", kind, t.name)
		list = append(list, t)
	}
	run := runID()
	return list, func(w int) generator { return newGenerator(c.mix, w, run, targets, acts) }, nil
}

// target is one log the bench writes to.
type target struct {
	kind     string // registry kind, or "raw"
	name     string
	origin   string
	base     string // URL of the log's folder, ending in "/"
	verifier note.Verifier
}

// logInfo is one element of the server's GET /logs.
type logInfo struct {
	Name   string `json:"name"`
	Origin string `json:"origin"`
	VKey   string `json:"vkey"`
}

// discoverTargets reads the server's log list and returns the logs of c's mix.
func discoverTargets(ctx context.Context, hc *http.Client, c *benchConfig) (map[string]*target, error) {
	server := strings.TrimRight(c.server, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/logs", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	defer resp.Body.Close()
	var infos []logInfo
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list logs: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&infos); err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	out := map[string]*target{}
	for _, kind := range mixKinds[c.mix] {
		name := c.logName(kind)
		i := indexOf(infos, name)
		if i < 0 {
			return nil, fmt.Errorf("the server has no log named %q for %s entries; name it with --log %s=NAME", name, kind, kind)
		}
		v, err := tlog.NewVerifier(infos[i].VKey)
		if err != nil {
			return nil, fmt.Errorf("log %s: %w", name, err)
		}
		name = infos[i].Name // --log may have given the origin
		out[kind] = &target{kind: kind, name: name, origin: infos[i].Origin, base: server + "/logs/" + name + "/", verifier: v}
	}
	return out, nil
}

// indexOf returns the index of the log of infos that arg names, by name or
// else by origin, or -1.
func indexOf(infos []logInfo, arg string) int {
	in, ok := findLog(infos, arg)
	if !ok {
		return -1
	}
	for i := range infos {
		if infos[i] == in {
			return i
		}
	}
	return -1
}

// rootKey reads the root authority key of log name: from --root-key, or where
// tabularium serve generates it under --data.
func rootKey(c *benchConfig, name string) (*entry.PrivateKey, error) {
	if f, ok := c.rootKeys[name]; ok {
		return readKey(f)
	}
	if f, ok := c.rootKeys[""]; ok {
		return readKey(f)
	}
	if c.data == "" {
		return nil, fmt.Errorf("no root key for log %s: give --root-key %s=FILE or --data DIR", name, name)
	}
	k, err := readKey(dataRootKey(c.data, name))
	if err != nil {
		return nil, fmt.Errorf("no root key for log %s under %s: %w", name, c.data, err)
	}
	return k, nil
}

// actors are the role holders the bench creates and grants itself for one run.
type actors struct {
	issuers      []*entry.PrivateKey // vaccination-issuer
	universities []*entry.PrivateKey // university
	registrars   []*entry.PrivateKey
	notaries     []*entry.PrivateKey
	banks        []*entry.PrivateKey
}

// grantRoles grants fresh keys the roles that the kind's entries need, the
// root key first and then the roles it delegates, each stage acknowledged
// before the next.
func grantRoles(ctx context.Context, s *sender, t *target, root *entry.PrivateKey, n int) (*actors, error) {
	a := &actors{}
	var err error
	switch t.kind {
	case rules.KindVaccinations:
		var health []*entry.PrivateKey
		if health, err = grantFresh(ctx, s, t, root, rules.RoleHealth, 1); err == nil {
			a.issuers, err = grantFresh(ctx, s, t, health[0], rules.RoleVaccinationIs, n)
		}
	case rules.KindDiplomas:
		var ministry []*entry.PrivateKey
		if ministry, err = grantFresh(ctx, s, t, root, rules.RoleEduMinistry, 1); err == nil {
			a.universities, err = grantFresh(ctx, s, t, ministry[0], rules.RoleUniversity, n)
		}
	case rules.KindLand:
		g, gctx := errgroup.WithContext(ctx)
		for _, r := range []struct {
			role string
			to   *[]*entry.PrivateKey
		}{{rules.RoleRegistrar, &a.registrars}, {rules.RoleNotary, &a.notaries}, {rules.RoleBank, &a.banks}} {
			g.Go(func() (err error) {
				*r.to, err = grantFresh(gctx, s, t, root, r.role, n)
				return err
			})
		}
		err = g.Wait()
	default:
		err = fmt.Errorf("unknown registry kind %q", t.kind)
	}
	return a, err
}

// grantFresh makes n new keys and has grantor grant each of them role.
func grantFresh(ctx context.Context, s *sender, t *target, grantor *entry.PrivateKey, role string, n int) ([]*entry.PrivateKey, error) {
	keys := make([]*entry.PrivateKey, n)
	g, gctx := errgroup.WithContext(ctx)
	for i := range keys {
		k, err := entry.GenerateKey(entry.KeyEd25519)
		if err != nil {
			return nil, err
		}
		keys[i] = k
		raw, err := entry.New(&entry.Payload{
			Log: t.origin, Type: entry.TypeRoleGrant, Object: "role/" + role + "/" + string(k.Public),
			Time: time.Now().Unix(), Fields: &entry.RoleFields{Role: role, Holder: k.Public},
		}, grantor)
		if err != nil {
			return nil, err
		}
		g.Go(func() error {
			res, err := s.submit(gctx, &item{target: t, body: raw, hash: entry.Hash(raw)})
			if err == nil && res.kind != "" {
				err = errors.New(res.kind)
			}
			if err != nil {
				return fmt.Errorf("grant %s to %s in log %s: %w", role, k.Public, t.name, err)
			}
			return nil
		})
	}
	return keys, g.Wait()
}
