package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/entry"
)

// layoutLog opens the one log of cfg, grants n registrars through its registry
// (waiting for publication) and closes it; it returns the published
// checkpoint.
func layoutLog(t *testing.T, cfg Config, logger *slog.Logger, n int) []byte {
	t.Helper()
	ctx := t.Context()
	s, err := openServer(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(context.Background())
	sl := s.logs[0]
	pemText, err := keyfile.Read(RootKeyPath(cfg.Data, sl.cfg.Name))
	if err != nil {
		t.Fatal(err)
	}
	root, err := entry.ParsePrivateKeyPEM([]byte(pemText))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		k, _ := entry.GenerateKey(entry.KeyEd25519)
		raw, err := entry.New(&entry.Payload{Log: sl.cfg.Origin, Time: time.Now().Unix(), Type: entry.TypeRoleGrant,
			Object: "role/registrar/" + string(k.Public), Fields: &entry.RoleFields{Role: "registrar", Holder: k.Public}}, root)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sl.reg.Submit(ctx, raw, true); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := sl.log.Reader().ReadCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// oneLog is the default configuration of one land log named name in data,
// without antispam (tessera's Badger index opens once per process).
func oneLog(data, name string) Config {
	noAntispam := false
	c := Config{Data: data, Logs: []LogConfig{{Name: name, Registry: "land", Antispam: &noAntispam,
		CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond}}}
	return c.withDefaults()
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestOldLayoutIsMovedToDisjointTrees: a data folder written by earlier
// versions, which kept a log's tree in <data>/<name> (inside <data>/keys for a
// log named keys, inside <data>/state for one named state), opens with the
// same tree, now in <data>/logs/<name>, the move said in the log; the private
// files stay where they were. A second start moves nothing.
func TestOldLayoutIsMovedToDisjointTrees(t *testing.T) {
	for _, name := range []string{"land", "keys", "state", "logs"} {
		t.Run(name, func(t *testing.T) {
			data := t.TempDir()
			old := oneLog(data, name)
			old.Logs[0].Storage.Dir = filepath.Join(data, name) // where earlier versions kept it
			before := layoutLog(t, old, slog.New(slog.DiscardHandler), 2)
			if _, err := os.Stat(filepath.Join(data, name, "checkpoint")); err != nil {
				t.Fatalf("the old layout has no tree in <data>/%s: %v", name, err)
			}

			cfg := oneLog(data, name)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			var logs logBuffer
			after := layoutLog(t, cfg, slog.New(slog.NewTextHandler(&logs, nil)), 1)
			if !strings.Contains(logs.String(), "moved a log's tree to the new layout") {
				t.Errorf("the move is not in the log:\n%s", logs.String())
			}
			// The same tree, grown by one entry: not a new log.
			if !bytes.HasPrefix(after, []byte("tabularium.local/"+name+"\n3\n")) || !bytes.HasPrefix(before, []byte("tabularium.local/"+name+"\n2\n")) {
				t.Fatalf("checkpoints before and after the move:\n%s\n%s", before, after)
			}
			if got := dirNames(t, DefaultLogDir(data, name)); !slices.Contains(got, "checkpoint") || !slices.Contains(got, "tile") || !slices.Contains(got, ".state") {
				t.Errorf("<data>/logs/%s holds %v", name, got)
			}
			left := dirNames(t, filepath.Join(data, name))
			for _, n := range tesseraNames {
				if name != LogsDir && slices.Contains(left, n) {
					t.Errorf("<data>/%s still holds %s: %v", name, n, left)
				}
			}
			switch name {
			case "land":
				if left != nil {
					t.Errorf("<data>/land is left with %v", left)
				}
			case "keys":
				if !slices.Contains(left, "keys.key") || !slices.Contains(left, "keys-root.key") {
					t.Errorf("the keys moved: <data>/keys holds %v", left)
				}
			case "state":
				if !slices.Contains(left, "state.db") {
					t.Errorf("the state index moved: <data>/state holds %v", left)
				}
			case "logs":
				if !slices.Equal(left, []string{"logs"}) {
					t.Errorf("<data>/logs holds %v, want only the log's folder", left)
				}
			}
			logs = logBuffer{}
			layoutLog(t, cfg, slog.New(slog.NewTextHandler(&logs, nil)), 0)
			if strings.Contains(logs.String(), "moving") {
				t.Errorf("a second start moved again:\n%s", logs.String())
			}
		})
	}
}

// TestNewLayoutDataFolder: a fresh data folder keeps each log's tree in
// <data>/logs/<name>, and nothing public beside the private folders.
func TestNewLayoutDataFolder(t *testing.T) {
	data := t.TempDir()
	layoutLog(t, oneLog(data, "keys"), slog.New(slog.DiscardHandler), 1)
	if got := dirNames(t, data); !slices.Equal(got, []string{"keys", "logs", "state"}) {
		t.Errorf("<data> holds %v", got)
	}
	if got := dirNames(t, filepath.Join(data, "keys")); !slices.Equal(got, []string{"keys-root.key", "keys.key"}) {
		t.Errorf("<data>/keys holds %v", got)
	}
	if got := dirNames(t, filepath.Join(data, "logs", "keys")); !slices.Equal(got, []string{".state", "checkpoint", "tile"}) {
		t.Errorf("<data>/logs/keys holds %v", got)
	}
}

// TestLayoutMoveRefusedWhenBothHoldATree: with a tree in both places the
// server refuses to start, says what to do, and moves nothing.
func TestLayoutMoveRefusedWhenBothHoldATree(t *testing.T) {
	data := t.TempDir()
	cfg := oneLog(data, "land")
	layoutLog(t, cfg, slog.New(slog.DiscardHandler), 1)
	if err := os.CopyFS(filepath.Join(data, "land"), os.DirFS(DefaultLogDir(data, "land"))); err != nil {
		t.Fatal(err)
	}
	before, after := dirNames(t, filepath.Join(data, "land")), []string(nil)
	_, err := openServer(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "its tree is both in") || !strings.Contains(err.Error(), "to keep the old one, move") {
		t.Fatalf("openServer with two trees: %v", err)
	}
	t.Log(err)
	if after = dirNames(t, filepath.Join(data, "land")); !slices.Equal(before, after) {
		t.Errorf("the old folder changed: %v, then %v", before, after)
	}
}

// TestLayoutMoveResumesAfterACrash: a move interrupted after some of the
// tree's entries reached the staging folder completes on the next start.
func TestLayoutMoveResumesAfterACrash(t *testing.T) {
	data := t.TempDir()
	old := oneLog(data, "land")
	old.Logs[0].Storage.Dir = filepath.Join(data, "land")
	before := layoutLog(t, old, slog.New(slog.DiscardHandler), 2)
	stage := filepath.Join(data, "logs", ".land.moving")
	if err := os.MkdirAll(stage, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(data, "land", "tile"), filepath.Join(stage, "tile")); err != nil {
		t.Fatal(err)
	}
	after := layoutLog(t, oneLog(data, "land"), slog.New(slog.DiscardHandler), 1)
	if !bytes.HasPrefix(before, []byte("tabularium.local/land\n2\n")) || !bytes.HasPrefix(after, []byte("tabularium.local/land\n3\n")) {
		t.Fatalf("checkpoints before and after the move:\n%s\n%s", before, after)
	}
	if got := dirNames(t, filepath.Join(data, "logs")); !slices.Equal(got, []string{"land"}) {
		t.Errorf("<data>/logs holds %v", got)
	}
}

// TestLogFolderMustNotOverlapPrivateData: a configured log folder inside or
// around a private folder, a secret file or another log's folder is refused.
func TestLogFolderMustNotOverlapPrivateData(t *testing.T) {
	for name, y := range map[string]string{
		"in keys":             "logs: [{name: land, registry: land, storage: {dir: keys/land}}]",
		"is keys":             "logs: [{name: land, registry: land, storage: {dir: keys}}]",
		"in state":            "logs: [{name: land, registry: land, storage: {dir: state}}]",
		"the data folder":     "logs: [{name: land, registry: land, storage: {dir: .}}]",
		"holds its key":       "logs: [{name: land, registry: land, key_file: /srv/land/land.key, storage: {dir: /srv/land}}]",
		"holds another's key": "logs: [{name: a, registry: land, storage: {dir: /srv/a}}, {name: b, registry: land, key_file: /srv/a/b.key}]",
		"inside another log":  "logs: [{name: a, registry: land, storage: {dir: /srv/a}}, {name: b, registry: land, storage: {dir: /srv/a/b}}]",
		"same folder":         "logs: [{name: a, registry: land, storage: {dir: x}}, {name: b, registry: land, storage: {dir: x/}}]",
		"dot segments":        "logs: [{name: a, registry: land, storage: {dir: logs/../keys/a}}]",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig([]byte("data: /var/lib/t\n"+y), "/")
			if err == nil || !strings.Contains(err.Error(), "overlap") {
				t.Fatalf("%s: %v, want a refusal naming the overlap", y, err)
			}
		})
	}
	for _, y := range []string{
		"logs: [{name: keys, registry: land}, {name: state, registry: land}, {name: logs, registry: land}]",
		"logs: [{name: land, registry: land, storage: {dir: land}}]",                     // the old default, set by hand
		"logs: [{name: land, registry: land, storage: {dir: /srv/keys-and-tiles/land}}]", // a name that only starts alike
	} {
		if _, err := ParseConfig([]byte("data: /var/lib/t\n"+y), "/"); err != nil {
			t.Errorf("%s: %v", y, err)
		}
	}
}

// TestServeBinaryMovesAnOldLayout runs the real binary on a data folder laid
// out as earlier versions did, with the Badger antispam index on: after the
// move the log keeps its entries and its antispam index still knows them.
func TestServeBinaryMovesAnOldLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	oldCfg := filepath.Join(t.TempDir(), "old.yaml")
	if err := os.WriteFile(oldCfg, []byte("data: "+data+"\nlogs: [{name: land, registry: land, storage: {dir: land}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, base := startServe(t, bin, "--config", oldCfg, "--listen", "127.0.0.1:0", "--metrics-listen", "off")
	pemText, err := keyfile.Read(RootKeyPath(data, "land"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := entry.ParsePrivateKeyPEM([]byte(pemText))
	if err != nil {
		t.Fatal(err)
	}
	wl := &witnessedLand{url: base}
	k, _ := entry.GenerateKey(entry.KeyEd25519)
	grant := wl.sign(t, &entry.Payload{Type: entry.TypeRoleGrant, Object: "role/registrar/" + string(k.Public),
		Fields: &entry.RoleFields{Role: "registrar", Holder: k.Public}}, root)
	first := wl.postRaw(t, true, grant)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not exit cleanly: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "land", ".state", "antispam")); err != nil {
		t.Fatalf("no antispam index in the old layout: %v", err)
	}

	_, base = startServe(t, bin, "--data", data, "--listen", "127.0.0.1:0", "--metrics-listen", "off")
	if _, err := os.Stat(filepath.Join(data, "logs", "land", ".state", "antispam")); err != nil {
		t.Fatalf("the antispam index did not move: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "land")); !os.IsNotExist(err) {
		t.Errorf("<data>/land is still there: %v", err)
	}
	// The moved index is the one in use: the log goes on after its entry.
	wl.url = base
	k2, _ := entry.GenerateKey(entry.KeyEd25519)
	next := wl.post(t, true, &entry.Payload{Type: entry.TypeRoleGrant, Object: "role/registrar/" + string(k2.Public),
		Fields: &entry.RoleFields{Role: "registrar", Holder: k2.Public}}, root)
	if next != first+1 {
		t.Fatalf("the next entry is at %d, want %d", next, first+1)
	}
	var obj map[string]any
	getJSON(t, base+"/logs/land/objects/role/registrar/"+string(k.Public), &obj)
	if obj["status"] == nil {
		t.Fatalf("the grant before the move is not in the state: %v", obj)
	}
}
