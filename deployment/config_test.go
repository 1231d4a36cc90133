package deployment

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// schema is the YAML shape of a command's configuration, read from the yaml
// tags of its Go structs, so that it cannot drift from the command.
type schema struct {
	structs map[string]*ast.StructType
	root    string
}

func loadSchema(t *testing.T, file, root string) schema {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", file), nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	s := schema{structs: map[string]*ast.StructType{}, root: root}
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			if st, ok := ts.Type.(*ast.StructType); ok {
				s.structs[ts.Name.Name] = st
			}
		}
		return true
	})
	if s.structs[root] == nil {
		t.Fatalf("%s: no struct %s", file, root)
	}
	return s
}

// fields maps the yaml names of a struct's fields to their types.
func (s schema) fields(name string) map[string]ast.Expr {
	m := map[string]ast.Expr{}
	for _, f := range s.structs[name].Fields.List {
		if f.Tag == nil {
			continue
		}
		tag, _ := strconv.Unquote(f.Tag.Value)
		key, _, _ := strings.Cut(reflect.StructTag(tag).Get("yaml"), ",")
		if key != "" && key != "-" {
			m[key] = f.Type
		}
	}
	return m
}

// has reports whether the struct name has the yaml field key.
func (s schema) has(name, key string) bool { _, ok := s.fields(name)[key]; return ok }

// check walks a YAML document as the command's decoder would with
// KnownFields(true): every key must be a field, every scalar must decode.
func (s schema) check(doc []byte) []string {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return []string{err.Error()}
	}
	if len(n.Content) != 1 {
		return []string{"not one YAML document"}
	}
	var errs []string
	s.walk(n.Content[0], ast.NewIdent(s.root), "", &errs)
	return errs
}

func (s schema) walk(n *yaml.Node, typ ast.Expr, at string, errs *[]string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	fail := func(format string, a ...any) {
		*errs = append(*errs, fmt.Sprintf("line %d: %s: ", n.Line, at)+fmt.Sprintf(format, a...))
	}
	if n.Tag == "!!null" {
		return
	}
	switch t := typ.(type) {
	case *ast.StarExpr:
		s.walk(n, t.X, at, errs)
	case *ast.ArrayType:
		if n.Kind != yaml.SequenceNode {
			fail("want a list")
			return
		}
		for i, c := range n.Content {
			s.walk(c, t.Elt, fmt.Sprintf("%s[%d]", at, i), errs)
		}
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok && x.Name == "time" && t.Sel.Name == "Duration" {
			if _, err := time.ParseDuration(n.Value); n.Kind != yaml.ScalarNode || err != nil {
				fail("want a duration, got %q", n.Value)
			}
		}
	case *ast.Ident:
		if _, ok := s.structs[t.Name]; ok {
			if n.Kind != yaml.MappingNode {
				fail("want a mapping")
				return
			}
			fields := s.fields(t.Name)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				ft, ok := fields[k]
				if !ok {
					*errs = append(*errs, fmt.Sprintf("line %d: %s: field %q is not in %s", n.Content[i].Line, at, k, t.Name))
					continue
				}
				s.walk(n.Content[i+1], ft, strings.TrimPrefix(at+"."+k, "."), errs)
			}
			return
		}
		if n.Kind != yaml.ScalarNode {
			fail("want a scalar")
			return
		}
		switch t.Name {
		case "bool":
			if n.Tag != "!!bool" {
				fail("want true or false, got %q", n.Value)
			}
		case "uint", "int", "int64", "uint64":
			if n.Tag != "!!int" {
				fail("want an integer, got %q", n.Value)
			}
		}
	}
}

// configFile is a configuration that one of the commands reads.
type configFile struct {
	name    string // where it is, for messages
	command string // tabularium or tabwitness
	text    []byte
}

var placeholder = regexp.MustCompile(`@[A-Z0-9_]+@|REPLACE-[a-z0-9-]+`)

// scaleOut reports whether a tabularium configuration uses the s3 storage kind.
func scaleOut(text []byte) bool { return bytes.Contains(text, []byte("kind: s3")) }

// checkConfig checks one configuration against the command's structs, and
// with the real binary (unless -short).
func checkConfig(t *testing.T, c configFile) {
	t.Helper()
	tabularium := loadSchema(t, "cmd/tabularium/config.go", "Config")
	tabwitness := loadSchema(t, "cmd/tabwitness/config.go", "config")
	s := tabwitness
	if c.command == "tabularium" {
		s = tabularium
		if scaleOut(c.text) && !tabularium.has("StorageConfig", "endpoint") {
			t.Skipf("%s: the s3 storage kind is not in cmd/tabularium/config.go yet; not checked", c.name)
		}
	}
	for _, e := range s.check(c.text) {
		t.Errorf("%s: %s", c.name, e)
	}
	if testing.Short() || t.Failed() {
		return
	}
	runConfig(t, c)
}

// runConfig starts the real command on the configuration and requires that
// it gets past loading and validating it (LoadConfig and Validate in
// tabularium, loadConfig in tabwitness). It then stops on a missing key file
// or an unreachable store, which is expected here; a process still running
// after the deadline has also accepted its configuration. The data folder is
// moved to a temporary one so that nothing is written outside the test.
func runConfig(t *testing.T, c configFile) {
	t.Helper()
	bin := binaries(t)
	dir := t.TempDir()
	text := regexp.MustCompile(`(?m)^data: .*$`).ReplaceAll(c.text, []byte("data: "+filepath.Join(dir, "data")))
	text = regexp.MustCompile(`(?m)^(\s+sqlite:) .*$`).ReplaceAll(text, []byte("$1 "+filepath.Join(dir, "witness.db")))
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "--config", path}
	if c.command == "tabularium" {
		args = append(args, "--listen", "127.0.0.1:0", "--metrics-listen", "off")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(bin, c.command), args...).CombinedOutput()
	last := errorLine(out)
	if ctx.Err() != nil {
		t.Logf("%s: accepted by %s; still running after 20s", c.name, c.command)
		return
	}
	if err == nil {
		t.Errorf("%s: %s exited cleanly, which it should not without keys", c.name, c.command)
		return
	}
	configError := regexp.MustCompile(`^(tabularium: (read |parse )?config|tabwitness: config)`)
	if configError.MatchString(last) {
		t.Errorf("%s: refused by %s: %s", c.name, c.command, out)
		return
	}
	t.Logf("%s: configuration accepted by %s, which then stopped as expected here: %s", c.name, c.command, last)
}

func errorLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := range lines {
		if l := lines[i]; strings.HasPrefix(l, "tabularium: ") || strings.HasPrefix(l, "tabwitness: ") {
			return l
		}
	}
	return lines[len(lines)-1]
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// binaries builds tabularium, tabwitness and tab once per test process.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "deployment-bin")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", buildDir+string(filepath.Separator), "./cmd/tabularium", "./cmd/tabwitness", "./cmd/tab")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// TestConfigFiles checks every configuration file under deployment/ that a
// command reads, including those inside the Kubernetes ConfigMaps.
func TestConfigFiles(t *testing.T) {
	files := []configFile{
		{name: "compose/tabularium.yaml", command: "tabularium"},
		{name: "compose/tabwitness.yaml", command: "tabwitness"},
		{name: "systemd/tabularium.yaml", command: "tabularium"},
		{name: "systemd/tabwitness.yaml", command: "tabwitness"},
	}
	for i := range files {
		b, err := os.ReadFile(files[i].name)
		if err != nil {
			t.Fatal(err)
		}
		files[i].text = b
	}
	for _, cm := range configMaps(t) {
		for key, text := range cm.Data {
			switch key {
			case "tabularium.yaml", "tabwitness.yaml":
				files = append(files, configFile{name: "kubernetes ConfigMap " + cm.Name + " " + key, command: strings.TrimSuffix(key, ".yaml"), text: []byte(text)})
			}
		}
	}
	for _, c := range files {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) { checkConfig(t, c) })
	}
}

// TestSchemaRefusesUnknownFields makes sure the structural check is not vacuous.
func TestSchemaRefusesUnknownFields(t *testing.T) {
	s := loadSchema(t, "cmd/tabwitness/config.go", "config")
	for _, bad := range []string{
		"key_file: k\nlogs: [{origin: o, vkey: v, colour: red}]\n",
		"key_file: k\nstore: {sqlite: a, postgres: b}\n",
		"key_file: k\nlogs: [{origin: o, vkey: v, poll_interval: often}]\n",
		"key_file: [k]\n",
	} {
		if errs := s.check([]byte(bad)); len(errs) == 0 {
			t.Errorf("accepted %q", bad)
		}
	}
	if errs := s.check([]byte("key_file: k\nstore: {sqlite: a}\nlogs: [{origin: o, vkey: v, poll_interval: 30s}]\n")); len(errs) != 0 {
		t.Errorf("refused a good configuration: %v", errs)
	}
}
