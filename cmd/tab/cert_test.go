package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabularium/tabularium/cmd/internal/binarytest"

	tlog "github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/api"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/witness"
)

// startWitnessedServer runs the real tabularium binary with one land log whose
// checkpoints need 2 of 3 in-process witnesses, and returns its URL and the
// trust policy file.
func startWitnessedServer(t *testing.T, dir string) (url, policyFile string) {
	t.Helper()
	data := filepath.Join(dir, "data")
	const origin = "tabularium.local/land"
	skey, vkey, err := tlog.GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyfile.Write(filepath.Join(data, "keys", "land.key"), skey); err != nil {
		t.Fatal(err)
	}
	policy := "log " + vkey + "\n"
	for i := 0; i < 3; i++ {
		wskey, _, _ := tlog.GenerateKey(fmt.Sprintf("w%d.witness.example", i))
		w, err := witness.New(witness.Config{SignerKey: wskey, Logs: []witness.Log{{Origin: origin, VKey: vkey}}, Store: witness.NewMemoryStore()})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(w)
		t.Cleanup(srv.Close)
		policy += fmt.Sprintf("witness w%d %s %s\n", i, w.VerifierKey(), srv.URL)
	}
	policy += "group two-of-three 2 w0 w1 w2\nquorum two-of-three\n"
	policyFile = filepath.Join(dir, "trust.policy")
	if err := os.WriteFile(policyFile, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`data: %s
listen: 127.0.0.1:0
metrics_listen: "off"
logs:
  - name: land
    registry: land
    witness_policy: %s
    checkpoint_interval: 100ms
    batch_max_age: 5ms
`, data, policyFile)
	cfgFile := filepath.Join(dir, "tabularium.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, url = binarytest.StartServe(t, binarytest.Build(t, "../tabularium"), "--config", cfgFile)
	return url, policyFile
}

// TestCertAndVerifyOffline registers a parcel on a real witnessed server with
// the CLI, gets its certificate with the deed opened, and verifies it offline;
// damaged certificates are refused with their reason.
func TestCertAndVerifyOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tabularium")
	}
	ctx := context.Background()
	dir := t.TempDir()
	url, policyFile := startWitnessedServer(t, dir)
	tab := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := Run(ctx, args, &out, &errb)
		return out.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := tab(args...)
		if err != nil {
			t.Fatalf("tab %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(out)
	}
	reg := must("keygen", "--out", filepath.Join(dir, "registrar.key"))
	owner := must("keygen", "--out", filepath.Join(dir, "owner.key"), "--type", "p256")
	rootKey := filepath.Join(dir, "data", "keys", "land-root.key")

	f := filepath.Join(dir, "grant.cose")
	must("entry", "new", "--log", "tabularium.local/land", "--type", "role.grant", "--object", "role/registrar/"+reg,
		"--fields", `{"role":"registrar","holder":"`+reg+`"}`, "--out", f)
	must("entry", "sign", "--key", rootKey, f)
	must("submit", "--server", url, "--log", "land", f)

	deed := []byte("deed of parcel 9: a field of 2.5 ha by the river")
	c, salt, err := entry.Commit("deed", deed)
	if err != nil {
		t.Fatal(err)
	}
	f = filepath.Join(dir, "register.cose")
	must("entry", "new", "--log", "tabularium.local/land", "--type", "land.register", "--object", "land/parcel-9",
		"--fields", `{"owners":[{"key":"`+owner+`","share":"1"}]}`, "--doc", "deed:"+hex.EncodeToString(c.Hash), "--out", f)
	must("entry", "sign", "--key", filepath.Join(dir, "registrar.key"), f)
	must("entry", "sign", "--key", filepath.Join(dir, "owner.key"), f)
	var sub api.SubmitResponse
	if err := json.Unmarshal([]byte(must("submit", "--server", url, "--log", "land", "--wait", f)), &sub); err != nil {
		t.Fatal(err)
	}

	opening := filepath.Join(dir, "deed.json")
	ob, _ := json.Marshal(openingFile{Kind: "deed", Salt: hex.EncodeToString(salt), Contents: deed})
	if err := os.WriteFile(opening, ob, 0o600); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "parcel-9.tlog-proof")
	must("cert", "--server", url, "--log", "land", fmt.Sprint(sub.Index), "--open", opening, "--out", cert)

	out := must("verify", "--policy", policyFile, "--max-age", "1h", cert)
	for _, want := range []string{"VERIFIED land.register of land/parcel-9", "signed by:  " + reg + " as registrar (granted at entry ", "signed by:  " + owner,
		fmt.Sprintf("document:   deed (%d bytes) matches", len(deed)), "witnessed:  by w", "but not up to a root you trust"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	// With the log's root key named in the policy, the registrar's role is
	// proven as recorded, up to it; under another root key it is refused.
	rootPEM, err := os.ReadFile(rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, err := entry.ParsePrivateKeyPEM(rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	policyText, _ := os.ReadFile(policyFile)
	withRoots := func(name string, k entry.PublicKey) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, append(bytes.Clone(policyText), "# tabularium-roots tabularium.local/land "+string(k)+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	out = must("verify", "--policy", withRoots("roots.policy", root.Public), cert)
	for _, want := range []string{"signed by:  " + reg + " as registrar (granted at entry 0 by root " + string(root.Public) + ")",
		"roles:      as recorded", "a revocation after a grant is not ruled out offline"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	other, _ := entry.GenerateKey(entry.KeyEd25519)
	if _, err := tab("verify", "--policy", withRoots("other-root.policy", other.Public), cert); err == nil ||
		!strings.Contains(err.Error(), "REFUSED") || !strings.Contains(err.Error(), "signer's role not proven") {
		t.Errorf("verify under another root: %v", err)
	}

	good, _ := os.ReadFile(cert)
	wrongDeed := filepath.Join(dir, "wrong.json")
	ob, _ = json.Marshal(openingFile{Kind: "deed", Salt: hex.EncodeToString(salt), Contents: []byte("another deed")})
	_ = os.WriteFile(wrongDeed, ob, 0o600)
	if _, err := tab("cert", "--server", url, "--log", "land", "--open", wrongDeed, "--out", cert+".x", fmt.Sprint(sub.Index)); err == nil ||
		!strings.Contains(err.Error(), "does not match") {
		t.Errorf("cert with a wrong opening: %v", err)
	}
	for name, tc := range map[string]struct {
		tamper func([]byte) []byte
		maxAge string
		want   string
	}{
		"checkpoint line": {func(b []byte) []byte {
			return bytes.Replace(b, []byte("\ntabularium.local/land\n"), []byte("\ntabularium.local/lands\n"), 1)
		}, "0", "not signed by the log"},
		// A cosignature is 4 bytes of key ID, 8 of timestamp and 64 of
		// Ed25519 signature (tlog-cosignature): one bit of the signature is
		// flipped in the decoded bytes, so the line stays canonical base64
		// and names the same witness, and only the signature check can refuse.
		"cosignature": {func(b []byte) []byte {
			return rewriteCosignature(t, b, func(sig []byte) { sig[4+8+20] ^= 1 })
		}, "0", "invalid witness cosignature"},
		"cosignature not base64": {func(b []byte) []byte {
			i := bytes.Index(b, []byte("\n— w")) + len("\n— w0.witness.example ")
			b[i] = '*'
			return b
		}, "0", "not canonical base64"},
		"entry": {func(b []byte) []byte {
			line := bytes.SplitN(b, []byte("\n"), 3)[1]
			raw, _ := base64.StdEncoding.DecodeString(string(line[len("extra "):]))
			j := bytes.Index(raw, []byte("parcel-9"))
			raw[j+7] = '8'
			return bytes.Replace(b, line, []byte("extra "+base64.StdEncoding.EncodeToString(raw)), 1)
		}, "0", "entry refused"},
		"stale": {func(b []byte) []byte { return b }, "1ns", "witness cosignatures too old"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(dir, name+".tlog-proof")
			_ = os.WriteFile(bad, tc.tamper(bytes.Clone(good)), 0o644)
			_, err := tab("verify", "--policy", policyFile, "--max-age", tc.maxAge, bad)
			if err == nil || !strings.HasPrefix(err.Error(), "REFUSED") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// rewriteCosignature applies change to the decoded signature of the first
// witness's line of a certificate and returns the certificate with that line
// re-encoded.
func rewriteCosignature(t *testing.T, cert []byte, change func(sig []byte)) []byte {
	t.Helper()
	lines := strings.Split(string(cert), "\n")
	for i, ln := range lines {
		rest, ok := strings.CutPrefix(ln, "— w")
		if !ok {
			continue
		}
		name, b64, ok := strings.Cut(rest, " ")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if !ok || err != nil || len(sig) != 4+8+64 {
			t.Fatalf("cosignature line %q: %v", ln, err)
		}
		change(sig)
		lines[i] = "— w" + name + " " + base64.StdEncoding.EncodeToString(sig)
		return []byte(strings.Join(lines, "\n"))
	}
	t.Fatal("no witness cosignature line")
	return nil
}
