package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabularium/tabularium/cmd/internal/binarytest"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/log/keyfile"
)

// witnessProc is one tabwitness process on a fixed loopback address.
type witnessProc struct {
	bin, config, addr, vkey string
	cmd                     *exec.Cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newWitness makes a key and a configuration for a tabwitness that witnesses the
// log with origin and vkey.
func newWitness(t *testing.T, bin, name, origin, vkey string) *witnessProc {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command(bin, "keygen", "--name", name, "--out", filepath.Join(dir, "witness.key")).Output()
	if err != nil {
		t.Fatalf("tabwitness keygen: %v", err)
	}
	w := &witnessProc{bin: bin, config: filepath.Join(dir, "witness.yaml"), addr: freeAddr(t), vkey: strings.TrimSpace(string(out))}
	cfg := fmt.Sprintf("key_file: witness.key\nlisten: %s\nstore:\n  sqlite: witness.db\nlogs:\n  - origin: %s\n    vkey: %s\n", w.addr, origin, vkey)
	if err := os.WriteFile(w.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *witnessProc) start(t *testing.T) {
	t.Helper()
	w.cmd = exec.Command(w.bin, "serve", "--config", w.config)
	stderr, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := w.cmd
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "msg=listening") {
				close(up)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case <-up:
	case <-time.After(60 * time.Second):
		t.Fatal("tabwitness did not start")
	}
}

func (w *witnessProc) stop(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
}

// TestWitnessedPublication runs the land log under a 2-of-3 witness policy with
// three real tabwitness processes: with one witness down publication goes on;
// with two down entries are still sequenced but no checkpoint is published; when
// a witness returns, publication resumes and no entry is lost.
func TestWitnessedPublication(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tabwitness")
	}
	bin := binarytest.Build(t, "../tabwitness")
	data := t.TempDir()
	const origin = "tabularium.local/land"
	skey, vkey, err := log.GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyfile.Write(filepath.Join(data, "keys", "land.key"), skey); err != nil {
		t.Fatal(err)
	}
	var ws []*witnessProc
	policy := "log " + vkey + "\n"
	for i := 0; i < 3; i++ {
		w := newWitness(t, bin, fmt.Sprintf("w%d.witness.example", i), origin, vkey)
		w.start(t)
		ws = append(ws, w)
		policy += fmt.Sprintf("witness w%d %s http://%s\n", i, w.vkey, w.addr)
	}
	policy += "group two-of-three 2 w0 w1 w2\nquorum two-of-three\n"
	if err := os.WriteFile(filepath.Join(data, "land.policy"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	trust, err := log.ParsePolicy([]byte(policy))
	if err != nil {
		t.Fatal(err)
	}

	cfg := DefaultConfig(data)
	cfg.Logs = cfg.Logs[:1]
	cfg.Logs[0].WitnessPolicy = filepath.Join(data, "land.policy")
	cfg.Logs[0].CheckpointInterval = 200 * time.Millisecond
	cfg.Logs[0].RepublishInterval = time.Second
	cfg.Logs[0].WitnessTimeout = time.Second
	cfg.Logs[0].BatchMaxAge = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := openServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(context.Background())
	land := s.logs[0].log

	next := 0
	add := func(n int) uint64 {
		var last engine.Index
		for i := 0; i < n; i++ {
			if last, err = land.Add(ctx, []byte(fmt.Sprintf("witnessed entry %d", next))); err != nil {
				t.Fatal(err)
			}
			next++
		}
		return last.Index
	}
	published := func(index uint64, within time.Duration) ([]byte, error) {
		actx, acancel := context.WithTimeout(ctx, within)
		defer acancel()
		return land.AwaitPublished(actx, index)
	}
	checkQuorum := func(cp []byte, wantSize uint64) {
		t.Helper()
		c, cosigs, err := trust.VerifyCheckpoint(cp, origin, time.Now(), time.Hour)
		if err != nil {
			t.Fatalf("published checkpoint does not meet the policy: %v\n%s", err, cp)
		}
		if c.Size < wantSize || len(cosigs) < 2 {
			t.Fatalf("checkpoint size %d with %d cosignatures; want >= %d with >= 2", c.Size, len(cosigs), wantSize)
		}
		// Independent check of the cosignatures with transparency-dev/formats.
		var vs []note.Verifier
		for _, w := range ws {
			v, err := fnote.NewVerifierForCosignatureV1(w.vkey)
			if err != nil {
				t.Fatal(err)
			}
			vs = append(vs, v)
		}
		lv, _ := note.NewVerifier(vkey)
		n, err := note.Open(cp, note.VerifierList(append(vs, lv)...))
		if err != nil || len(n.Sigs) < 3 {
			t.Fatalf("formats/note verifies %d signatures (want log + 2 witnesses): %v", len(n.Sigs), err)
		}
	}

	cp, err := published(add(10), 30*time.Second)
	if err != nil {
		t.Fatalf("with three witnesses up: %v", err)
	}
	checkQuorum(cp, 10)

	ws[0].stop(t)
	if cp, err = published(add(10), 30*time.Second); err != nil {
		t.Fatalf("with one witness down, publication stopped: %v", err)
	}
	checkQuorum(cp, 20)

	ws[1].stop(t)
	last := add(10) // sequencing goes on without the witnesses
	if _, err := published(last, 4*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with two of three witnesses down a checkpoint was published (err %v)", err)
	}
	raw, err := land.Reader().ReadCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkQuorum(raw, 20)

	ws[1].start(t)
	if cp, err = published(last, 30*time.Second); err != nil {
		t.Fatalf("after a witness returned, publication did not resume: %v", err)
	}
	checkQuorum(cp, 30)
	seen := 0
	if err := land.ReadEntries(ctx, 0, 30, func(i uint64, data []byte) error {
		if string(data) != fmt.Sprintf("witnessed entry %d", i) {
			return fmt.Errorf("entry %d is %q", i, data)
		}
		seen++
		return nil
	}); err != nil || seen != 30 {
		t.Fatalf("entries after the outage: %d, %v", seen, err)
	}
}
