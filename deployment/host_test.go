package deployment

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// unitSettings reads the [Service] settings of a systemd unit.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings, section := map[string][]string{}, ""
	for sc := bufio.NewScanner(f); sc.Scan(); {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "[") {
			section = l
		} else if k, v, ok := strings.Cut(l, "="); ok && section == "[Service]" && !strings.HasPrefix(l, "#") {
			settings[k] = append(settings[k], v)
		}
	}
	return settings
}

func TestSystemdHardening(t *testing.T) {
	want := map[string]string{
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter":        "@system-service",
		"LimitNOFILE":             "65536",
		"UMask":                   "0077",
	}
	for _, unit := range []string{"tabularium", "tabwitness"} {
		s := unitSettings(t, filepath.Join("systemd", unit+".service"))
		for k, v := range want {
			if !slices.Contains(s[k], v) {
				t.Errorf("%s.service: want %s=%s, have %q", unit, k, v, s[k])
			}
		}
		if u := s["User"]; len(u) != 1 || u[0] != unit {
			t.Errorf("%s.service: want the dedicated user %s", unit, unit)
		}
		if rw := s["ReadWritePaths"]; len(rw) != 1 || rw[0] != "/var/lib/"+unit {
			t.Errorf("%s.service: writable paths %q", unit, rw)
		}
		// Every key the configuration names comes as a credential.
		cfg, err := os.ReadFile(filepath.Join("systemd", unit+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`key_file: /run/credentials/([^/]+)/(\S+)`).FindAllStringSubmatch(string(cfg), -1) {
			if m[1] != unit+".service" || !slices.ContainsFunc(s["LoadCredential"], func(c string) bool { return strings.HasPrefix(c, m[2]+":") }) {
				t.Errorf("%s.yaml names %s/%s, which %s.service does not load", unit, m[1], m[2], unit)
			}
		}
	}
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on the units, with
// ExecStart pointed at binaries that exist (verify refuses a missing one). Any
// message, not only a failure, fails the test: verify only warns about unknown
// or malformed settings.
func TestSystemdAnalyzeVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed: units not verified")
	}
	if testing.Short() {
		t.Skip("builds the commands")
	}
	bin := binaries(t)
	dir := t.TempDir()
	var units []string
	for _, unit := range []string{"tabularium.service", "tabwitness.service"} {
		b, err := os.ReadFile(filepath.Join("systemd", unit))
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.ReplaceAll(string(b), "/usr/local/bin/", bin+"/"))
		if err := os.WriteFile(filepath.Join(dir, unit), b, 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, filepath.Join(dir, unit))
	}
	out, err := exec.Command("systemd-analyze", append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestDockerfiles(t *testing.T) {
	for _, cmd := range []string{"tabularium", "tabwitness", "tab"} {
		path := filepath.Join("docker", cmd+".Dockerfile")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var froms, lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			lines = append(lines, l)
			if strings.HasPrefix(l, "FROM ") {
				froms = append(froms, l)
			}
		}
		text := strings.Join(lines, "\n")
		if len(froms) < 2 || froms[len(froms)-1] != "FROM scratch" {
			t.Errorf("%s: want a multi-stage build ending FROM scratch, have %q", path, froms)
		}
		final := text[strings.LastIndex(text, "FROM "):]
		if !regexp.MustCompile(`(?m)^USER [1-9][0-9]*:[1-9][0-9]*$`).MatchString(final) {
			t.Errorf("%s: the final stage must run as a numeric non-root user", path)
		}
		if !strings.Contains(text, "CGO_ENABLED=0 go build") || !strings.Contains(text, "./cmd/"+cmd) {
			t.Errorf("%s: want a static build of ./cmd/%s", path, cmd)
		}
		if regexp.MustCompile(`(?i)\b(ENV|ARG)\b[^\n]*(KEY|PASSWORD|SECRET|DSN|TOKEN)`).MatchString(text) {
			t.Errorf("%s: a secret in ENV or ARG", path)
		}
		ignore, err := os.ReadFile(path + ".dockerignore")
		if err != nil {
			t.Fatal(err)
		}
		for _, pattern := range []string{"**/*.key", "**/*.dsn", "deployment/compose/secrets", ".git"} {
			if !slices.Contains(strings.Split(string(ignore), "\n"), pattern) {
				t.Errorf("%s.dockerignore: %s is not excluded from the build context", path, pattern)
			}
		}
	}
}

// TestSystemdLayoutKeepsLogsApart: the embedded tier's configuration keeps
// every log's tree, which may be served as static files, in <data>/logs/, and
// no key, credential or state inside it.
func TestSystemdLayoutKeepsLogsApart(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("systemd", "tabularium.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Data string `yaml:"data"`
		Logs []struct {
			Name    string `yaml:"name"`
			KeyFile string `yaml:"key_file"`
			Storage struct {
				Kind string `yaml:"kind"`
				Dir  string `yaml:"dir"`
			} `yaml:"storage"`
		} `yaml:"logs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(cfg.Data, "logs")
	inside := func(p, dir string) bool {
		rel, err := filepath.Rel(dir, p)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
	}
	if len(cfg.Logs) == 0 {
		t.Fatal("no logs")
	}
	for _, l := range cfg.Logs {
		if l.Storage.Kind != "posix" {
			t.Errorf("log %s: storage kind %q on the embedded tier", l.Name, l.Storage.Kind)
		}
		dir := filepath.Join(logs, l.Name) // the default
		if l.Storage.Dir != "" {
			if dir = l.Storage.Dir; !filepath.IsAbs(dir) {
				dir = filepath.Join(cfg.Data, dir)
			}
		}
		if !inside(dir, logs) || dir == logs {
			t.Errorf("log %s: its tree %s is not in %s", l.Name, dir, logs)
		}
		if l.KeyFile == "" || inside(l.KeyFile, logs) {
			t.Errorf("log %s: key file %q is not named or is among the public trees", l.Name, l.KeyFile)
		}
	}
}
