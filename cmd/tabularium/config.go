package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the server's configuration file (YAML). Every field is documented in
// README.md; the zero value of an optional field selects the default shown there.
type Config struct {
	// Data is the folder relative paths below are resolved against.
	Data string `yaml:"data"`
	// Listen is the address of the public API.
	Listen string `yaml:"listen"`
	// MetricsListen is the address of the Prometheus metrics listener; "off"
	// disables it. It must be a loopback address unless MetricsPublic is set.
	MetricsListen string `yaml:"metrics_listen"`
	MetricsPublic bool   `yaml:"metrics_public"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	Logs            []LogConfig   `yaml:"logs"`
}

// LogConfig configures one log.
type LogConfig struct {
	// Name is the log's path segment under /logs/.
	Name string `yaml:"name"`
	// Origin is the checkpoint origin line and the name of the log's key.
	Origin string `yaml:"origin"`
	// Registry is the kind of registry the log keeps: land, diplomas or vaccinations.
	Registry string `yaml:"registry"`
	// KeyFile holds the Ed25519 signer key. If empty, <data>/<name>/log.key is
	// used, and generated on first start. A key file named here must exist.
	KeyFile string `yaml:"key_file"`
	// Storage says where the log lives.
	Storage StorageConfig `yaml:"storage"`

	CheckpointInterval     time.Duration `yaml:"checkpoint_interval"`
	RepublishInterval      time.Duration `yaml:"republish_interval"`
	BatchMaxSize           uint          `yaml:"batch_max_size"`
	BatchMaxAge            time.Duration `yaml:"batch_max_age"`
	PushbackMaxOutstanding uint          `yaml:"pushback_max_outstanding"`
	// MaxPending bounds the entries awaiting their index; beyond it submissions
	// get 503 with Retry-After (default 8192).
	MaxPending uint `yaml:"max_pending"`
	// Antispam deduplicates identical entries (Badger index); default true.
	Antispam *bool `yaml:"antispam"`
	// Roots are the registry's root authority public keys ("ed25519:..." or
	// "p256:..."). If empty, <data>/keys/<name>-root.key is generated on first start.
	Roots []string `yaml:"roots"`
	// WitnessPolicy is a c2sp.org/tlog-policy file naming the witnesses (with
	// their add-checkpoint URLs) and the quorum; checkpoints are published only
	// once cosigned by the quorum. Empty publishes unwitnessed checkpoints.
	WitnessPolicy string `yaml:"witness_policy"`
	// WitnessTimeout bounds each round of requests to the witnesses (default 5s).
	WitnessTimeout time.Duration `yaml:"witness_timeout"`
	// RecoveryWait is how long a key recovery waits, in log time; default 14 days.
	RecoveryWait time.Duration `yaml:"recovery_wait"`

	// generateKey is set when no key file was configured: the default key file
	// is then created on first start.
	generateKey bool
}

// StorageConfig selects a tessera storage driver.
type StorageConfig struct {
	// Kind is "posix" (the embedded default).
	Kind string `yaml:"kind"`
	// Dir is the POSIX log folder; default <data>/<name>.
	Dir string `yaml:"dir"`
}

// Defaults for a server started with no flags.
const (
	DefaultData          = "tabularium-data"
	DefaultListen        = "127.0.0.1:8080"
	DefaultMetricsListen = "127.0.0.1:9464"
	DefaultOriginPrefix  = "tabularium.local/"
)

// DefaultConfig returns the embedded default: three logs, land, diplomas and
// vaccinations, on the POSIX tier in data.
func DefaultConfig(data string) Config {
	c := Config{Data: data}
	for _, name := range []string{"land", "diplomas", "vaccinations"} {
		c.Logs = append(c.Logs, LogConfig{Name: name, Registry: name})
	}
	return c.withDefaults()
}

// LoadConfig reads a YAML configuration strictly: unknown fields are errors.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(b, filepath.Dir(path))
}

// MaxConfigSize bounds a configuration file.
const MaxConfigSize = 1 << 20

// ParseConfig parses a YAML configuration; relative data folders are resolved
// against base.
func ParseConfig(b []byte, base string) (Config, error) {
	if len(b) > MaxConfigSize {
		return Config{}, fmt.Errorf("config is over %d bytes", MaxConfigSize)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	if c.Data != "" && !filepath.IsAbs(c.Data) {
		c.Data = filepath.Join(base, c.Data)
	}
	c = c.withDefaults()
	return c, c.Validate()
}

func (c Config) withDefaults() Config {
	if c.Data == "" {
		c.Data = DefaultData
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MetricsListen == "" {
		c.MetricsListen = DefaultMetricsListen
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	for i := range c.Logs {
		l := &c.Logs[i]
		if l.Origin == "" {
			l.Origin = DefaultOriginPrefix + l.Name
		}
		if l.Storage.Kind == "" {
			l.Storage.Kind = "posix"
		}
		if l.Storage.Dir == "" {
			l.Storage.Dir = l.Name
		}
		if !filepath.IsAbs(l.Storage.Dir) {
			l.Storage.Dir = filepath.Join(c.Data, l.Storage.Dir)
		}
		if l.WitnessPolicy != "" && !filepath.IsAbs(l.WitnessPolicy) {
			l.WitnessPolicy = filepath.Join(c.Data, l.WitnessPolicy)
		}
		if l.KeyFile == "" {
			l.KeyFile, l.generateKey = filepath.Join("keys", l.Name+".key"), true
		}
		if !filepath.IsAbs(l.KeyFile) {
			l.KeyFile = filepath.Join(c.Data, l.KeyFile)
		}
	}
	return c
}

var (
	logNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	originRE  = regexp.MustCompile(`^[A-Za-z0-9._~/:-]{1,255}$`)
)

// Validate refuses unsafe or inconsistent configurations.
func (c Config) Validate() error {
	if len(c.Logs) == 0 {
		return errors.New("config: no logs")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("config: listen %q: %w", c.Listen, err)
	}
	if c.MetricsListen != "off" {
		host, _, err := net.SplitHostPort(c.MetricsListen)
		if err != nil {
			return fmt.Errorf("config: metrics_listen %q: %w", c.MetricsListen, err)
		}
		if ip := net.ParseIP(host); !c.MetricsPublic && (ip == nil || !ip.IsLoopback()) && host != "localhost" {
			return fmt.Errorf("config: metrics_listen %q is not a loopback address; set metrics_public: true to expose metrics", c.MetricsListen)
		}
	}
	names, origins := map[string]bool{}, map[string]bool{}
	for _, l := range c.Logs {
		if !logNameRE.MatchString(l.Name) {
			return fmt.Errorf("config: log name %q must be lowercase letters, digits and dashes", l.Name)
		}
		if !originRE.MatchString(l.Origin) {
			return fmt.Errorf("config: log %s: origin %q is not a valid origin", l.Name, l.Origin)
		}
		if names[l.Name] || origins[l.Origin] {
			return fmt.Errorf("config: log %s: name or origin used twice", l.Name)
		}
		names[l.Name], origins[l.Origin] = true, true
		switch l.Registry {
		case "land", "diplomas", "vaccinations":
		default:
			return fmt.Errorf("config: log %s: registry %q is not one of land, diplomas, vaccinations", l.Name, l.Registry)
		}
		if l.Storage.Kind != "posix" {
			return fmt.Errorf("config: log %s: storage kind %q is not supported (posix)", l.Name, l.Storage.Kind)
		}
		if l.CheckpointInterval != 0 && l.CheckpointInterval < 100*time.Millisecond {
			return fmt.Errorf("config: log %s: checkpoint_interval must be at least 100ms", l.Name)
		}
	}
	return nil
}
