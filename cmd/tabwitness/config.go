package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/witness"
)

// DefaultListen is the address served when the configuration names none.
const DefaultListen = "127.0.0.1:7380"

// config is the YAML configuration of tabwitness serve; README.md documents
// every field. Relative paths are relative to the configuration file.
type config struct {
	KeyFile       string      `yaml:"key_file"`
	Listen        string      `yaml:"listen"`
	MetricsListen string      `yaml:"metrics_listen"`
	LogLevel      string      `yaml:"log_level"`
	Store         storeConfig `yaml:"store"`
	Logs          []logConfig `yaml:"logs"`
}

type storeConfig struct {
	SQLite       string `yaml:"sqlite"`
	MySQLDSNFile string `yaml:"mysql_dsn_file"`
	MySQLTable   string `yaml:"mysql_table"`
}

type logConfig struct {
	Origin       string        `yaml:"origin"`
	VKey         string        `yaml:"vkey"`
	URL          string        `yaml:"url"`
	PollInterval time.Duration `yaml:"poll_interval"`
}

// loadConfig reads and checks the configuration file at path.
func loadConfig(path string) (*config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := parseConfig(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// maxConfigSize bounds a configuration file.
const maxConfigSize = 1 << 20

// parseConfig parses a configuration strictly (unknown fields are errors) and
// resolves its relative paths against dir.
func parseConfig(b []byte, dir string) (*config, error) {
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("over %d bytes", maxConfigSize)
	}
	var c config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	c.KeyFile = resolve(dir, c.KeyFile)
	c.Store.SQLite = resolve(dir, c.Store.SQLite)
	c.Store.MySQLDSNFile = resolve(dir, c.Store.MySQLDSNFile)
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *config) check() error {
	if c.KeyFile == "" {
		return errors.New("key_file is required")
	}
	if (c.Store.SQLite == "") == (c.Store.MySQLDSNFile == "") {
		return errors.New("store: set exactly one of sqlite and mysql_dsn_file")
	}
	if len(c.Logs) == 0 {
		return errors.New("logs: no log configured")
	}
	for i, l := range c.Logs {
		if l.Origin == "" || l.VKey == "" {
			return fmt.Errorf("logs[%d]: origin and vkey are required", i)
		}
		if l.URL != "" && !strings.HasPrefix(l.URL, "https://") && !strings.HasPrefix(l.URL, "http://") {
			return fmt.Errorf("logs[%d]: url %q is not http(s)", i, l.URL)
		}
		if l.PollInterval != 0 && l.PollInterval < time.Second {
			return fmt.Errorf("logs[%d]: poll_interval %v is under a second", i, l.PollInterval)
		}
	}
	return nil
}

func (c *config) witnessLogs() []witness.Log {
	var logs []witness.Log
	for _, l := range c.Logs {
		logs = append(logs, witness.Log{Origin: l.Origin, VKey: l.VKey, URL: l.URL, PollInterval: l.PollInterval})
	}
	return logs
}

func resolve(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// readSecret reads a secret file, refusing one that group or others can read
// or write.
func readSecret(path string) (string, error) {
	return keyfile.Read(path)
}
