package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeRefusesUnsafeSetups(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	key := filepath.Join(dir, "w.key")
	if err := Run(t.Context(), []string{"keygen", "--name", "w.example/w", "--out", key}, &out, &out); err != nil {
		t.Fatal(err)
	}
	logs := "logs:\n  - origin: example.com/log\n    vkey: example.com/log+1c7e2d3a+AXX1hd8PtCX0GzA2UeHYNA2bZoqm2P1ChJtEV1Ck1FrN\n"
	for _, tt := range []struct {
		name, config, want string
		keyMode            os.FileMode
	}{
		{"key readable by others", "key_file: w.key\nstore: {sqlite: w.db}\n" + logs, "mode", 0o644},
		{"unknown field", "key_file: w.key\nstore: {sqlite: w.db}\nlisen: x\n" + logs, "lisen", 0o600},
		{"no store", "key_file: w.key\n" + logs, "store", 0o600},
		{"two stores", "key_file: w.key\nstore: {sqlite: w.db, mysql_dsn_file: dsn}\n" + logs, "store", 0o600},
		{"no logs", "key_file: w.key\nstore: {sqlite: w.db}\n", "logs", 0o600},
		{"bad log key", "key_file: w.key\nstore: {sqlite: w.db}\nlogs:\n  - origin: a\n    vkey: nope\n", "key", 0o600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Chmod(key, tt.keyMode); err != nil {
				t.Fatal(err)
			}
			config := filepath.Join(dir, "c.yaml")
			os.WriteFile(config, []byte(tt.config), 0o644)
			err := Run(t.Context(), []string{"serve", "--config", config}, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{nil, {"frobnicate"}, {"keygen"}, {"serve"}, {"keygen", "--name", "x", "--out", "y", "extra"}} {
		if err := Run(t.Context(), args, &out, &out); !errors.Is(err, errUsage) {
			t.Errorf("Run(%q) = %v, want a usage error", args, err)
		}
	}
}

// FuzzParseConfig checks that no configuration text makes the parser panic, and
// that what it accepts passes its own checks.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("key_file: k\nstore:\n  sqlite: w.db\nlogs:\n  - origin: o\n    vkey: v\n"))
	f.Add([]byte("key_file: k\nstore: {mysql_dsn_file: d}\nlogs: [{origin: o, vkey: v, url: 'http://x', poll_interval: 5s}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseConfig(b, "/base")
		if err == nil && c.check() != nil {
			t.Fatal("parseConfig returned a config that fails its checks")
		}
	})
}
