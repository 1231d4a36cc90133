package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	good := `
data: /srv/tabularium
listen: 0.0.0.0:8443
metrics_listen: 127.0.0.1:9000
logs:
  - name: land
    origin: registry.example.gov/land
    registry: land
    key_file: keys/land.key
    checkpoint_interval: 2s
    batch_max_size: 512
    antispam: false
    max_signatures: 8
`
	c, err := ParseConfig([]byte(good), "/etc")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Logs[0]
	if l.Origin != "registry.example.gov/land" || l.CheckpointInterval != 2*time.Second || l.BatchMaxSize != 512 ||
		l.KeyFile != filepath.Join("/srv/tabularium", "keys/land.key") || l.generateKey ||
		l.Storage.Dir != filepath.Join("/srv/tabularium", "logs", "land") || *l.Antispam || l.MaxSignatures != 8 {
		t.Fatalf("parsed %+v", l)
	}

	bad := map[string]string{
		"unknown field":     "logs: [{name: land, registry: land, colour: red}]",
		"no logs":           "listen: 127.0.0.1:1",
		"bad registry":      "logs: [{name: land, registry: cars}]",
		"bad name":          "logs: [{name: Land!, registry: land}]",
		"duplicate name":    "logs: [{name: land, registry: land}, {name: land, registry: land, origin: x}]",
		"duplicate origin":  "logs: [{name: a, registry: land, origin: o}, {name: b, registry: land, origin: o}]",
		"public metrics":    "metrics_listen: 0.0.0.0:9000\nlogs: [{name: land, registry: land}]",
		"bad listen":        "listen: nowhere\nlogs: [{name: land, registry: land}]",
		"storage kind":      "logs: [{name: land, registry: land, storage: {kind: floppy}}]",
		"tiny interval":     "logs: [{name: land, registry: land, checkpoint_interval: 1ms}]",
		"bad duration":      "logs: [{name: land, registry: land, checkpoint_interval: soon}]",
		"origin with space": "logs: [{name: land, registry: land, origin: 'a b'}]",
		"not yaml":          "{{{",
		"signatures":        "logs: [{name: land, registry: land, max_signatures: -1}]",
	}
	for name, y := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseConfig([]byte(y), "/etc"); err == nil {
				t.Fatalf("accepted %q", y)
			}
		})
	}
	if _, err := ParseConfig([]byte(strings.Repeat("#", MaxConfigSize+1)), "/"); err == nil {
		t.Fatal("accepted an oversized config")
	}
	if _, err := ParseConfig([]byte("metrics_listen: 0.0.0.0:9000\nmetrics_public: true\nlogs: [{name: land, registry: land}]"), "/"); err != nil {
		t.Fatalf("metrics_public should allow a public metrics address: %v", err)
	}
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig("d")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || len(c.Logs) != 3 || !c.Logs[2].generateKey || c.Logs[2].Origin != "tabularium.local/vaccinations" {
		t.Fatalf("default config %+v", c)
	}
}

// FuzzParseConfig checks that no configuration text makes the parser panic.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("logs: [{name: land, registry: land}]"))
	f.Add([]byte("listen: 127.0.0.1:1\nlogs:\n  - name: x\n    registry: diplomas\n"))
	f.Add([]byte("pprof_listen: 127.0.0.1:6060\nlogs: [{name: keys, registry: land, storage: {dir: logs/keys}}, {name: b, registry: land, key_file: /k/b.key}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b, "/base")
		if err == nil && c.Validate() != nil {
			t.Fatal("ParseConfig returned an invalid config without error")
		}
	})
}
