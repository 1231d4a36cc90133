package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
)

var (
	tabBinOnce sync.Once
	tabBin     string
	tabBinDir  string
)

// tabBinary builds the tab binary once for the package's tests.
func tabBinary(t *testing.T) string {
	t.Helper()
	tabBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tab-bin-")
		if err != nil {
			t.Fatal(err)
		}
		tabBinDir = dir
		tabBin = filepath.Join(dir, "tab")
		if out, err := exec.Command("go", "build", "-o", tabBin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	})
	if tabBin == "" {
		t.Fatal("the tab binary did not build")
	}
	return tabBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tabBinDir != "" {
		os.RemoveAll(tabBinDir)
	}
	os.Exit(code)
}

// runTab runs the tab binary and returns its stdout, its stderr and its exit
// code.
func runTab(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(tabBinary(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	t.Fatalf("tab %s: %v", strings.Join(args, " "), err)
	return "", "", 0
}

// TestHelpExitsZeroAtEveryLevel runs the real binary: --help of every command
// and group exits 0 and shows its usage (a group lists its subcommands), as
// Go's flag package does by default; a missing or unknown command exits 1 and
// names the commands there are.
func TestHelpExitsZeroAtEveryLevel(t *testing.T) {
	var walk func(path []string, cmds []*command)
	walk = func(path []string, cmds []*command) {
		for _, c := range cmds {
			p := append(append([]string(nil), path...), c.name)
			if c.subs != nil {
				for _, help := range []string{"--help", "-h", "help"} {
					out, errOut, code := runTab(t, append(p, help)...)
					if code != 0 || errOut != "" {
						t.Errorf("tab %s %s: exit %d, stderr %q", strings.Join(p, " "), help, code, errOut)
					}
					for _, s := range c.subs {
						if !strings.Contains(out, "  tab "+s.synopsis[0]+"\n") {
							t.Errorf("tab %s %s does not list %q:\n%s", strings.Join(p, " "), help, s.synopsis[0], out)
						}
					}
				}
				_, errOut, code := runTab(t, p...)
				if code != 1 || !strings.Contains(errOut, "tab: tab "+strings.Join(p, " ")+" needs a command: "+namesOf(c.subs)) {
					t.Errorf("tab %s: exit %d, stderr %q", strings.Join(p, " "), code, errOut)
				}
				walk(p, c.subs)
				continue
			}
			_, errOut, code := runTab(t, append(p, "--help")...)
			if code != 0 || !strings.HasPrefix(errOut, "usage:\n  tab "+c.synopsis[0]+"\n") || !strings.Contains(errOut, "\nflags:\n") ||
				strings.Contains(errOut, "help requested") {
				t.Errorf("tab %s --help: exit %d, stderr:\n%s", strings.Join(p, " "), code, errOut)
			}
		}
	}
	walk(nil, commandTable())

	out, _, code := runTab(t, "--help")
	if code != 0 || !strings.Contains(out, "  tab entry new ") || !strings.Contains(out, "  tab key show FILE\n") || !strings.Contains(out, "  tab doc commit ") {
		t.Errorf("tab --help: exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{{}, {"nosuch"}, {"entry", "nosuch"}, {"submit", "--nosuch"}} {
		if _, errOut, code := runTab(t, args...); code != 1 || !strings.Contains(errOut, "tab: ") {
			t.Errorf("tab %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
		}
	}
	if _, errOut, _ := runTab(t, "entry", "nosuch"); !strings.Contains(errOut, `tab entry has no command "nosuch"; it has new, sign`) {
		t.Errorf("tab entry nosuch: %q", errOut)
	}
}

// TestKeyShowPrintsThePublicKey: tab key show prints the public key of a key
// tab keygen wrote, and the verifier key of a log's checkpoint signing key;
// a key file others can read is refused.
func TestKeyShowPrintsThePublicKey(t *testing.T) {
	dir := t.TempDir()
	for _, typ := range []string{entry.KeyEd25519, entry.KeyP256} {
		f := filepath.Join(dir, typ+".key")
		pub, _, code := runTab(t, "keygen", "--type", typ, "--out", f)
		if code != 0 {
			t.Fatalf("keygen: exit %d", code)
		}
		if out, errOut, code := runTab(t, "key", "show", f); code != 0 || out != pub {
			t.Errorf("key show of a %s key: %q (exit %d, %s), keygen printed %q", typ, out, code, errOut, pub)
		}
	}
	skey, vkey, err := log.GenerateKey("tabularium.local/land")
	if err != nil {
		t.Fatal(err)
	}
	logKey := filepath.Join(dir, "land.key")
	if err := os.WriteFile(logKey, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runTab(t, "key", "show", logKey); code != 0 || out != vkey+"\n" {
		t.Errorf("key show of a log key: %q (exit %d, %s), want %q", out, code, errOut, vkey)
	}
	if err := os.Chmod(logKey, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runTab(t, "key", "show", logKey); code != 1 || out != "" || !strings.Contains(errOut, "chmod 600") {
		t.Errorf("key show of a key others can read: %q, exit %d, %s", out, code, errOut)
	}
	notKey := filepath.Join(dir, "note.txt")
	_ = os.WriteFile(notKey, []byte("hello\n"), 0o600)
	if _, errOut, code := runTab(t, "key", "show", notKey); code != 1 || !strings.Contains(errOut, "is neither a party's key") {
		t.Errorf("key show of a text file: exit %d, %s", code, errOut)
	}
}

// TestDocCommitMakesTheOpening: tab doc commit prints the --doc value of a
// document's salted commitment and writes the opening file that proves it,
// readable only by its owner and never overwritten.
func TestDocCommitMakesTheOpening(t *testing.T) {
	dir := t.TempDir()
	deed := filepath.Join(dir, "deed.pdf")
	contents := []byte("deed of parcel 4: a meadow of 1.2 ha")
	_ = os.WriteFile(deed, contents, 0o644)
	out, errOut, code := runTab(t, "doc", "commit", "--kind", "deed", deed)
	if code != 0 {
		t.Fatalf("doc commit: exit %d, %s", code, errOut)
	}
	opening := deed + ".opening.json"
	fi, err := os.Stat(opening)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("opening file: %v, %v", fi, err)
	}
	b, _ := os.ReadFile(opening)
	var of openingFile
	if err := json.Unmarshal(b, &of); err != nil {
		t.Fatal(err)
	}
	salt, err := hex.DecodeString(of.Salt)
	if err != nil || len(salt) != 32 || of.Kind != "deed" || !bytes.Equal(of.Contents, contents) {
		t.Fatalf("opening %+v", of)
	}
	want := fmt.Sprintf("deed:%x\n", entry.CommitWithSalt("deed", salt, contents).Hash)
	if out != want {
		t.Fatalf("doc commit printed %q, want %q", out, want)
	}
	// Another commitment to the same document has another salt.
	other := filepath.Join(dir, "other.json")
	if out2, _, code := runTab(t, "doc", "commit", "--kind", "deed", "--out", other, deed); code != 0 || out2 == out {
		t.Errorf("a second commitment: %q, exit %d", out2, code)
	}
	for name, args := range map[string][]string{
		"existing opening": {"doc", "commit", "--kind", "deed", deed},
		"no kind":          {"doc", "commit", deed},
		"bad kind":         {"doc", "commit", "--kind", "Deed!", "--out", filepath.Join(dir, "x.json"), deed},
		"no file":          {"doc", "commit", "--kind", "deed", "--out", filepath.Join(dir, "y.json"), filepath.Join(dir, "absent")},
	} {
		if _, errOut, code := runTab(t, args...); code != 1 || errOut == "" {
			t.Errorf("%s: exit %d, %q", name, code, errOut)
		}
	}
	if b2, _ := os.ReadFile(opening); !bytes.Equal(b, b2) {
		t.Error("the opening file was overwritten")
	}
}

// TestLogNamedByNameOrOrigin runs the real binaries: every command that names
// a log accepts its name or its origin, and an entry without signatures is
// refused before it is sent, saying so.
func TestLogNamedByNameOrOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tabularium")
	}
	dir := t.TempDir()
	url, policyFile := startWitnessedServer(t, dir)
	const origin = "tabularium.local/land"
	must := func(args ...string) string {
		t.Helper()
		out, errOut, code := runTab(t, args...)
		if code != 0 {
			t.Fatalf("tab %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return strings.TrimSpace(out)
	}
	rootKey := filepath.Join(dir, "data", "keys", "land-root.key")
	root := must("key", "show", rootKey)
	reg := must("keygen", "--out", filepath.Join(dir, "registrar.key"))

	// entry new with the log's name looks its origin up on the server.
	f := filepath.Join(dir, "grant.cose")
	must("entry", "new", "--server", url, "--log", "land", "--type", "role.grant", "--object", "role/registrar/"+reg,
		"--fields", `{"role":"registrar","holder":"`+reg+`"}`, "--out", f)
	b, _ := os.ReadFile(f)
	if p, err := entry.DecodePayload(b); err != nil || p.Log != origin {
		t.Fatalf("entry new --log land wrote an entry for %q (%v)", p.Log, err)
	}
	// Unsigned, it is refused before any request, saying it has no signatures.
	if _, errOut, code := runTab(t, "submit", "--server", url, "--log", "land", f); code != 1 ||
		!strings.Contains(errOut, "is an entry with no signatures: have every party sign it with tab entry sign") {
		t.Fatalf("submit of an unsigned entry: exit %d, %s", code, errOut)
	}
	must("entry", "sign", "--key", rootKey, f)
	var sub struct {
		Index uint64 `json:"index"`
	}
	if err := json.Unmarshal([]byte(must("submit", "--server", url, "--log", origin, "--wait", f)), &sub); err != nil {
		t.Fatal(err)
	}
	if sub.Index != 0 {
		t.Fatalf("the grant is entry %d", sub.Index)
	}
	for _, lg := range []string{"land", origin} {
		if out := must("object", "--server", url, "--log", lg, "role/registrar/"+reg); !strings.Contains(out, reg) {
			t.Errorf("object --log %s: %s", lg, out)
		}
		cert := filepath.Join(dir, "grant-"+strings.ReplaceAll(lg, "/", "_")+".tlog-proof")
		must("cert", "--server", url, "--log", lg, "--out", cert, "0")
		if out := must("verify", "--policy", policyFile, cert); !strings.Contains(out, "VERIFIED role.grant") || !strings.Contains(out, root) {
			t.Errorf("verify of the certificate got with --log %s:\n%s", lg, out)
		}
		receipt := must("qr", "--server", url, "--log", lg, "--out", filepath.Join(dir, "grant.png"), cert)
		if !strings.HasPrefix(receipt, url+"/logs/land/proof/0#") {
			t.Errorf("qr --log %s: receipt %s", lg, receipt)
		}
		if out := must("audit", "--server", url, "--log", lg, "--policy", policyFile, "--root", root); !strings.Contains(out, "OK") {
			t.Errorf("audit --log %s:\n%s", lg, out)
		}
		if out := must("watch", "--server", url, "--log", lg, "--policy", policyFile, "--object", "role/registrar/"+reg, "--from", "0", "--once"); !strings.Contains(out, "role.grant") {
			t.Errorf("watch --log %s:\n%s", lg, out)
		}
	}
	// A log the server does not have is refused with the logs it has.
	for _, args := range [][]string{
		{"submit", "--server", url, "--log", "tabularium.local/lands", f},
		{"object", "--server", url, "--log", "tabularium.local/lands", "land/x"},
		{"entry", "new", "--server", url, "--log", "lands", "--type", "role.grant", "--object", "x", "--out", filepath.Join(dir, "x.cose")},
	} {
		if _, errOut, code := runTab(t, args...); code != 1 || !strings.Contains(errOut, "it has land (tabularium.local/land)") {
			t.Errorf("tab %s: exit %d, %s", strings.Join(args, " "), code, errOut)
		}
	}
}
