package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tabularium/tabularium/cmd/internal/binarytest"
)

// buildBinary builds the tabularium command into a temporary folder.
func buildBinary(t *testing.T) string { return binarytest.Build(t, ".") }

// startServe runs "tabularium serve" with args and returns the base URL it prints.
func startServe(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	return binarytest.StartServe(t, bin, args...)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeBinaryEndToEnd runs the real binary on a fresh data folder, checks the
// HTTP contract, stops it with SIGTERM, and checks that a restart reuses the keys.
func TestServeBinaryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	args := []string{"--data", data, "--listen", "127.0.0.1:0", "--metrics-listen", "off"}
	cmd, base := startServe(t, bin, args...)

	var logs []LogInfo
	getJSON(t, base+"/logs", &logs)
	if len(logs) != 3 || logs[0].Name != "land" || logs[1].Name != "diplomas" || logs[2].Name != "vaccinations" {
		t.Fatalf("GET /logs = %+v", logs)
	}
	for _, l := range logs {
		if l.Origin != "tabularium.local/"+l.Name || l.URL != "/logs/"+l.Name+"/" || !strings.HasPrefix(l.VKey, l.Origin+"+") {
			t.Fatalf("log info %+v", l)
		}
		fi, err := os.Stat(filepath.Join(data, "keys", l.Name+".key"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file of %s: %v, mode %v", l.Name, err, fi.Mode())
		}
	}
	for url, want := range map[string]int{
		"/healthz":                    200,
		"/readyz":                     200,
		"/logs/land/checkpoint":       200,
		"/logs/nope/checkpoint":       404,
		"/logs/land/tile/0/000":       404,
		"/logs/land/tile/0/0":         400,
		"/logs/land/tile/64/000":      400,
		"/logs/land/tile/entries/x00": 400,
		"/logs/land/nothing":          404,
	} {
		if got := status(t, base+url); got != want {
			t.Errorf("GET %s: status %d, want %d", url, got, want)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not exit cleanly on SIGTERM: %v", err)
	}

	_, base = startServe(t, bin, args...)
	var again []LogInfo
	getJSON(t, base+"/logs", &again)
	for i := range logs {
		if again[i] != logs[i] {
			t.Fatalf("after restart log %d is %+v, was %+v", i, again[i], logs[i])
		}
	}
}

// TestServeRefusesUnsafeKeyFile checks that a key file others can read stops the
// server at start.
func TestServeRefusesUnsafeKeyFile(t *testing.T) {
	data := t.TempDir()
	if err := os.MkdirAll(filepath.Join(data, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "keys", "land.key"), []byte("PRIVATE+KEY+x+00000000+AA==\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Run(t.Context(), []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--metrics-listen", "off"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("serve with a 0644 key file: %v, want a refusal", err)
	}
}
