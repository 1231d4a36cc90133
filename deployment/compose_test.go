package deployment

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tabularium/tabularium/log"
)

// composeFile is the part of the compose specification these tests read.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Configs  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"configs"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

type composeService struct {
	Image       string `yaml:"image"`
	Build       *struct{ Context, Dockerfile string }
	Secrets     []composeFileRef    `yaml:"secrets"`
	Configs     []composeFileRef    `yaml:"configs"`
	Volumes     []string            `yaml:"volumes"`
	DependsOn   map[string]struct{} `yaml:"depends_on"`
	ReadOnly    bool                `yaml:"read_only"`
	CapDrop     []string            `yaml:"cap_drop"`
	SecurityOpt []string            `yaml:"security_opt"`
}

// composeFileRef is the short ("name") or long ({source, target}) syntax.
type composeFileRef struct{ Source, Target string }

func (r *composeFileRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		r.Source = n.Value
		return nil
	}
	var long struct{ Source, Target string }
	err := n.Decode(&long)
	*r = composeFileRef(long)
	return err
}

func loadCompose(t *testing.T, dir string) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestComposeReferences checks that every secret, config, named volume and
// dependency a service names is declared, and that our own services are
// hardened.
func TestComposeReferences(t *testing.T) {
	c := loadCompose(t, "compose")
	if len(c.Services) == 0 {
		t.Fatal("no services")
	}
	counts := map[string]int{}
	for name, s := range c.Services {
		for _, r := range s.Secrets {
			if _, ok := c.Secrets[r.Source]; !ok {
				t.Errorf("%s: undeclared secret %s", name, r.Source)
			}
		}
		for _, r := range s.Configs {
			if _, ok := c.Configs[r.Source]; !ok {
				t.Errorf("%s: undeclared config %s", name, r.Source)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				if _, ok := c.Volumes[src]; !ok {
					t.Errorf("%s: undeclared volume %s", name, src)
				}
			}
		}
		for d := range s.DependsOn {
			if _, ok := c.Services[d]; !ok {
				t.Errorf("%s: depends on unknown service %s", name, d)
			}
		}
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join("compose", s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			counts[s.Image]++
			if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
				t.Errorf("%s: want read_only, cap_drop ALL and no-new-privileges", name)
			}
		}
	}
	if counts["tabularium/tabularium:dev"] != 2 || counts["tabularium/tabwitness:dev"] != 3 {
		t.Errorf("want two front ends and three witnesses, got %v", counts)
	}
	// Each witness has its own key and its own store.
	keys, stores := map[string]bool{}, map[string]bool{}
	for name, s := range c.Services {
		if s.Image == "tabularium/tabwitness:dev" {
			if len(s.Secrets) != 1 || len(s.Volumes) != 1 {
				t.Errorf("%s: want one key and one volume", name)
				continue
			}
			keys[s.Secrets[0].Source], stores[s.Volumes[0]] = true, true
		}
	}
	if len(keys) != 3 || len(stores) != 3 {
		t.Errorf("witnesses share keys or stores: %v %v", keys, stores)
	}
	// Files that are committed (not written by init.sh) exist.
	for name, cf := range c.Configs {
		if !strings.HasPrefix(cf.File, "./generated/") {
			if _, err := os.Stat(filepath.Join("compose", cf.File)); err != nil {
				t.Errorf("config %s: %v", name, err)
			}
		}
	}
	for name, s := range c.Secrets {
		if !strings.HasPrefix(s.File, "./secrets/") {
			t.Errorf("secret %s: %s is outside the ignored secrets/ folder", name, s.File)
		}
	}
}

// TestPrometheusScrapesEveryMetricsEndpoint: every front end and witness is a
// target, on the port its configuration serves metrics on.
func TestPrometheusScrapesEveryMetricsEndpoint(t *testing.T) {
	c := loadCompose(t, "compose")
	b, err := os.ReadFile("compose/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, sc := range p.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			for _, tg := range s.Targets {
				targets[tg] = true
			}
		}
	}
	for name, s := range c.Services {
		if s.Build != nil && !targets[name+":9464"] {
			t.Errorf("%s:9464 is not scraped", name)
		}
	}
	for _, f := range []string{"compose/tabularium.yaml", "compose/tabwitness.yaml"} {
		b, _ := os.ReadFile(f)
		if !strings.Contains(string(b), "metrics_listen: 0.0.0.0:9464") {
			t.Errorf("%s: metrics are not on 0.0.0.0:9464", f)
		}
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	b, err = os.ReadFile("compose/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert %q: needs expr, severity and summary", r.Alert)
			}
		}
	}
}

// TestComposeInit runs init.sh with the real key generators in a copy of the
// compose folder, then checks what it wrote: modes, the filled-in
// configurations (against the commands), the witness policies (with the same
// parser the server uses), and `docker compose config` when the client has it.
func TestComposeInit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands")
	}
	bin := binaries(t)
	dir := filepath.Join(t.TempDir(), "compose")
	if err := os.CopyFS(dir, os.DirFS("compose")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", filepath.Join(dir, "init.sh"))
	cmd.Env = append(os.Environ(),
		"TABULARIUM="+filepath.Join(bin, "tabularium"),
		"TABWITNESS="+filepath.Join(bin, "tabwitness"),
		"TAB="+filepath.Join(bin, "tab"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init.sh: %v\n%s", err, out)
	}
	if out, err := exec.Command("sh", filepath.Join(dir, "init.sh")).CombinedOutput(); err == nil {
		t.Errorf("init.sh ran twice, which would make a second set of logs: %s", out)
	}

	c := loadCompose(t, dir)
	for name, s := range c.Secrets {
		fi, err := os.Stat(filepath.Join(dir, s.File))
		if err != nil {
			t.Errorf("secret %s: %v", name, err)
			continue
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("secret %s has mode %v", name, fi.Mode().Perm())
		}
	}
	for name, cf := range c.Configs {
		b, err := os.ReadFile(filepath.Join(dir, cf.File))
		if err != nil {
			t.Errorf("config %s: %v", name, err)
			continue
		}
		if m := placeholder.Find(b); m != nil {
			t.Errorf("config %s: %s left unfilled", name, m)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	for _, lg := range []string{"land", "diplomas", "vaccinations"} {
		p, err := log.ParsePolicy([]byte(read("generated/" + lg + ".policy")))
		if err != nil {
			t.Errorf("%s.policy: %v", lg, err)
			continue
		}
		if len(p.Logs) != 1 || p.Logs[0].VKey != read("generated/"+lg+".vkey") {
			t.Errorf("%s.policy does not name the log's key", lg)
		}
		for i, w := range p.Witnesses {
			u, err := url.Parse(w.URL)
			if err != nil || u.Port() != "7380" || c.Services[u.Hostname()].Image != "tabularium/tabwitness:dev" {
				t.Errorf("%s.policy: witness %s at %q is no witness service", lg, w.Name, w.URL)
			}
			if want := read(fmt.Sprintf("generated/witness-%d.vkey", i+1)); w.VKey != want {
				t.Errorf("%s.policy: witness %s key %s, want %s", lg, w.Name, w.VKey, want)
			}
		}
		if !strings.Contains(read("generated/tabwitness.yaml"), read("generated/"+lg+".vkey")) {
			t.Errorf("tabwitness.yaml does not name %s's key", lg)
		}
	}
	for _, f := range []configFile{
		{name: "generated/tabularium.yaml", command: "tabularium"},
		{name: "generated/tabwitness.yaml", command: "tabwitness"},
	} {
		t.Run(filepath.Base(f.name), func(t *testing.T) {
			f.text = []byte(read(f.name))
			checkConfig(t, f)
		})
	}

	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Log("docker compose is not available here: compose.yaml not checked by it")
		return
	}
	out, err := exec.Command("docker", "compose", "-f", filepath.Join(dir, "compose.yaml"), "config", "-q").CombinedOutput()
	if err != nil {
		t.Errorf("docker compose config: %v\n%s", err, out)
	}
}
