package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
	// PprofListen is the address of Go's runtime profiles (/debug/pprof/);
	// "off" (the default) disables them. It must be a loopback address,
	// whatever else is configured: profiles show the process's memory.
	PprofListen string `yaml:"pprof_listen"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MemoryLimitMiB is the Go runtime's soft memory limit (default 768; a
	// negative value disables it). The GOMEMLIMIT environment variable, if set,
	// takes precedence.
	MemoryLimitMiB int         `yaml:"memory_limit_mib"`
	Logs           []LogConfig `yaml:"logs"`
}

// LogConfig configures one log.
type LogConfig struct {
	// Name is the log's path segment under /logs/.
	Name string `yaml:"name"`
	// Origin is the checkpoint origin line and the name of the log's key.
	Origin string `yaml:"origin"`
	// Registry is the kind of registry the log keeps: land, diplomas or vaccinations.
	Registry string `yaml:"registry"`
	// KeyFile holds the Ed25519 signer key. If empty, <data>/keys/<name>.key is
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
	// MaxSignatures is the most signatures a submitted entry may carry
	// (default registry.DefaultMaxSignatures, 16); more are refused with 400
	// before any is verified. An admission limit: changing it never changes
	// how the entries already logged are judged.
	MaxSignatures int `yaml:"max_signatures"`

	// generateKey is set when no key file was configured: the default key file
	// is then created on first start.
	generateKey bool
}

// StorageConfig selects a tessera storage driver.
type StorageConfig struct {
	// Kind is "posix" (the embedded default) or "s3" (the scale-out tier:
	// tessera's AWS driver on an S3-compatible bucket and a MySQL-compatible
	// database, shared by several front ends).
	Kind string `yaml:"kind"`
	// Dir is the POSIX log folder; default <data>/logs/<name>. posix only. It
	// may be served as static files, so it must not overlap a private folder.
	Dir string `yaml:"dir"`

	// The fields below are for kind s3 only.

	// Endpoint is the S3 endpoint URL; empty means AWS S3 in Region.
	Endpoint string `yaml:"endpoint"`
	// Region is the bucket's region (default us-east-1).
	Region string `yaml:"region"`
	// Bucket holds the log's tiles, entry bundles and checkpoint.
	Bucket string `yaml:"bucket"`
	// Prefix is prepended to every object key, so that logs share a bucket.
	Prefix string `yaml:"prefix"`
	// PathStyle addresses objects as endpoint/bucket/key (MinIO, Ceph RGW).
	PathStyle bool `yaml:"path_style"`
	// CredentialsFile holds the S3 access keys (AWS shared credentials
	// format, mode 0600); empty means the standard AWS environment.
	CredentialsFile string `yaml:"credentials_file"`
	// MySQLDSNFile holds the DSN of the log's own MySQL-compatible database
	// (mode 0600): tessera's sequencing tables, its antispam index and the
	// state index.
	MySQLDSNFile string `yaml:"mysql_dsn_file"`
}

// Defaults for a server started with no flags.
const (
	DefaultData          = "tabularium-data"
	DefaultListen        = "127.0.0.1:8080"
	DefaultMetricsListen = "127.0.0.1:9464"
	DefaultPprofListen   = "off"
	DefaultOriginPrefix  = "tabularium.local/"
	// DefaultMemoryLimitMiB keeps a server's resident memory under 1 GiB: the
	// garbage collector works harder as the heap nears it.
	DefaultMemoryLimitMiB = 768
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
	if c.PprofListen == "" {
		c.PprofListen = DefaultPprofListen
	}
	if c.MemoryLimitMiB == 0 {
		c.MemoryLimitMiB = DefaultMemoryLimitMiB
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
		if l.Storage.Kind == "posix" && l.Storage.Dir == "" {
			l.Storage.Dir = filepath.Join(LogsDir, l.Name)
		}
		if l.Storage.Kind == "s3" && l.Storage.Region == "" {
			l.Storage.Region = "us-east-1"
		}
		for _, p := range []*string{&l.Storage.Dir, &l.Storage.CredentialsFile, &l.Storage.MySQLDSNFile} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(c.Data, *p)
			}
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
		if !c.MetricsPublic && !loopbackHost(host) {
			return fmt.Errorf("config: metrics_listen %q is not a loopback address; set metrics_public: true to expose metrics", c.MetricsListen)
		}
	}
	if c.PprofListen != "off" && c.PprofListen != "" {
		host, _, err := net.SplitHostPort(c.PprofListen)
		if err != nil {
			return fmt.Errorf("config: pprof_listen %q: %w", c.PprofListen, err)
		}
		if !loopbackIP(host) {
			return fmt.Errorf("config: pprof_listen %q is not a loopback IP address; profiles are served on loopback only (reach them through an SSH tunnel)", c.PprofListen)
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
		if err := l.validateStorage(); err != nil {
			return fmt.Errorf("config: log %s: %w", l.Name, err)
		}
		if l.CheckpointInterval != 0 && l.CheckpointInterval < 100*time.Millisecond {
			return fmt.Errorf("config: log %s: checkpoint_interval must be at least 100ms", l.Name)
		}
		if l.MaxSignatures < 0 {
			return fmt.Errorf("config: log %s: max_signatures must be positive (or omitted for the default of 16)", l.Name)
		}
	}
	return c.checkDisjoint()
}

// validateStorage checks the storage section against its kind.
func (l LogConfig) validateStorage() error {
	st := l.Storage
	switch st.Kind {
	case "posix":
		if st.Endpoint != "" || st.Bucket != "" || st.Prefix != "" || st.PathStyle || st.CredentialsFile != "" || st.MySQLDSNFile != "" || st.Region != "" {
			return errors.New("storage kind posix takes only dir")
		}
		return nil
	case "s3":
	default:
		return fmt.Errorf("storage kind %q is not one of posix, s3", st.Kind)
	}
	if st.Dir != "" {
		return errors.New("storage kind s3 takes no dir")
	}
	if st.Bucket == "" || st.MySQLDSNFile == "" {
		return errors.New("storage kind s3 needs bucket and mysql_dsn_file")
	}
	if st.Endpoint != "" {
		u, err := url.Parse(st.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return fmt.Errorf("storage endpoint %q is not an http(s) URL without credentials", st.Endpoint)
		}
	}
	if st.Prefix != "" && (strings.HasPrefix(st.Prefix, "/") || strings.HasSuffix(st.Prefix, "/") || strings.Contains(st.Prefix, "..")) {
		return fmt.Errorf("storage prefix %q must be a relative key prefix without a trailing slash", st.Prefix)
	}
	// Front ends that generated keys of their own would sign different
	// checkpoints and judge with different roots.
	if l.generateKey {
		return errors.New("storage kind s3 needs key_file: every front end signs with the same key (make one with tabularium keygen)")
	}
	if len(l.Roots) == 0 {
		return errors.New("storage kind s3 needs roots: every front end judges with the same root authorities")
	}
	if l.CheckpointInterval != 0 && l.CheckpointInterval < time.Second {
		return errors.New("storage kind s3 needs checkpoint_interval of at least 1s (tessera's AWS driver)")
	}
	return nil
}

// loopbackIP reports whether host is a literal loopback IP address, which no
// name resolution can point elsewhere.
func loopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackHost reports whether host, from an address, reaches only this machine.
func loopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
