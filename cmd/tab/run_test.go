package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine/enginetest"

	"net/http/httptest"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/api"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// TestRegistrarWorkflow builds, signs party by party, submits and reads back
// entries with the CLI against a real server.
func TestRegistrarWorkflow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tab := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := Run(ctx, args, &out, &errb); err != nil {
			t.Fatalf("tab %s: %v (%s)", strings.Join(args, " "), err, errb.String())
		}
		return strings.TrimSpace(out.String())
	}
	keys := map[string]string{}
	for _, who := range []string{"root", "registrar", "owner"} {
		keys[who] = tab("keygen", "--out", filepath.Join(dir, who+".key"))
	}
	fi, _ := os.Stat(filepath.Join(dir, "root.key"))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}

	origin := "tabularium.local/land"
	lg := enginetest.OpenPOSIX(t, origin, engine.Options{CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond, NoAntispam: true})
	store, err := state.Open(filepath.Join(dir, "state.db"), origin)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg, err := registry.Open(ctx, rules.Config{Log: origin, Kind: rules.KindLand, Roots: []entry.PublicKey{entry.PublicKey(keys["root"])}}, lg, store, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(map[string]*registry.Registry{"land": reg}, nil))
	defer srv.Close()

	f := filepath.Join(dir, "grant.cose")
	tab("entry", "new", "--log", origin, "--type", "role.grant", "--object", "role/registrar/"+keys["registrar"],
		"--fields", `{"role":"registrar","holder":"`+keys["registrar"]+`"}`, "--out", f)
	tab("entry", "sign", "--key", filepath.Join(dir, "root.key"), f)
	tab("submit", "--server", srv.URL, "--log", "land", f)

	f = filepath.Join(dir, "register.cose")
	tab("entry", "new", "--log", origin, "--type", "land.register", "--object", "land/parcel-1",
		"--fields", `{"owners":[{"key":"`+keys["owner"]+`","share":"1"}]}`, "--doc", "deed:"+strings.Repeat("ab", 32), "--out", f)
	tab("entry", "sign", "--key", filepath.Join(dir, "registrar.key"), f)
	tab("entry", "sign", "--key", filepath.Join(dir, "owner.key"), f)
	var sub api.SubmitResponse
	if err := json.Unmarshal([]byte(tab("submit", "--server", srv.URL, "--log", "land", "--wait", f)), &sub); err != nil || sub.Checkpoint == "" {
		t.Fatalf("submit --wait: %+v %v", sub, err)
	}
	var o rules.Object
	if err := json.Unmarshal([]byte(tab("object", "--server", srv.URL, "--log", "land", "land/parcel-1")), &o); err != nil {
		t.Fatal(err)
	}
	if o.Owners[0].Key != entry.PublicKey(keys["owner"]) || o.Latest != sub.Index {
		t.Fatalf("object = %+v", o)
	}
	// A second submission of the same transfer-less registration is refused.
	var out, errb bytes.Buffer
	if err := Run(ctx, []string{"submit", "--server", srv.URL, "--log", "land", f}, &out, &errb); err == nil || !strings.Contains(err.Error(), "object-exists") {
		t.Fatalf("resubmission: %v", err)
	}
}
