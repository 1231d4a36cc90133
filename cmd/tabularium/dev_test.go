package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/log"
)

// startDev runs "tabularium dev" and waits until it has printed its help, which
// it does once the demo registry is seeded and the samples are written.
func startDev(t *testing.T, bin, data, listen string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--data", data, "--listen", listen)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(90 * time.Second):
		t.Fatal("tabularium dev did not finish seeding")
	}
	return cmd
}

// TestDevStack runs the one-command demo: its sample certificates verify offline
// under the trust policy it wrote (2 of 3 witnesses), and a restart reuses the
// data without seeding twice.
func TestDevStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "dev")
	listen := freeAddr(t)
	cmd := startDev(t, bin, data, listen)

	text, err := os.ReadFile(filepath.Join(data, "trust.policy"))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := log.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(policy.Logs) != 3 || len(policy.Witnesses) != 3 {
		t.Fatalf("trust policy has %d logs and %d witnesses", len(policy.Logs), len(policy.Witnesses))
	}
	roots, err := client.ParseRoots(text, policy)
	if err != nil || len(roots) != 3 {
		t.Fatalf("roots in the trust policy: %v %v", roots, err)
	}
	samples, _ := filepath.Glob(filepath.Join(data, "samples", "*.tlog-proof"))
	if len(samples) < 8 {
		t.Fatalf("%d sample certificates, want 8", len(samples))
	}
	for _, f := range samples {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.ParseCertificate(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sum, err := client.VerifyWithRoots(policy, roots, c, time.Now(), time.Hour)
		if err != nil {
			t.Fatalf("%s does not verify: %v", filepath.Base(f), err)
		}
		if !strings.HasPrefix(sum.Roles, client.RolesAsRecorded) || len(sum.Proven) == 0 {
			t.Fatalf("%s: roles %q", filepath.Base(f), sum.Roles)
		}
		if strings.Contains(f, "diploma") && !strings.Contains(sum.String(), " as university (granted at entry ") {
			t.Fatalf("%s:\n%s", filepath.Base(f), sum)
		}
		if len(sum.Cosignatures) < 2 || len(sum.Opened) == 0 && !strings.Contains(f, "pledge") {
			t.Fatalf("%s: %d cosignatures, %d openings", filepath.Base(f), len(sum.Cosignatures), len(sum.Opened))
		}
	}
	// Public and private data in disjoint trees: each log's tree in logs/.
	for _, name := range []string{"land", "diplomas", "vaccinations"} {
		if _, err := os.Stat(filepath.Join(data, "logs", name, "checkpoint")); err != nil {
			t.Errorf("log %s: %v", name, err)
		}
	}
	if top, _ := filepath.Glob(filepath.Join(data, "*", "checkpoint")); len(top) != 0 {
		t.Errorf("log trees outside logs/: %v", top)
	}
	var logs []LogInfo
	getJSON(t, "http://"+listen+"/logs", &logs)
	var parcel map[string]any
	getJSON(t, "http://"+listen+"/logs/land/objects/land/parcel-2", &parcel)
	if arrests, _ := parcel["arrests"].([]any); len(arrests) != 1 {
		t.Fatalf("parcel-2 should stand arrested: %v", parcel)
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	startDev(t, bin, data, listen)
	var again map[string]any
	getJSON(t, "http://"+listen+"/logs/land/objects/land/parcel-2", &again)
	if len(again["entries"].([]any)) != len(parcel["entries"].([]any)) {
		t.Fatalf("restart seeded again: %v", again["entries"])
	}
}
