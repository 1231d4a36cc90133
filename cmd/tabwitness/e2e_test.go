package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/log"
)

// e2eLog is a small Merkle log built with golang.org/x/mod/sumdb/tlog.
type e2eLog struct {
	origin, vkey string
	signer       note.Signer
	stored       []tlog.Hash
	size         int64
}

func newE2ELog(t *testing.T, origin string, size int) *e2eLog {
	skey, vkey, err := log.GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := log.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := &e2eLog{origin: origin, vkey: vkey, signer: signer}
	for range size {
		h, err := tlog.StoredHashes(l.size, fmt.Appendf(nil, "entry %d", l.size), l.reader())
		if err != nil {
			t.Fatal(err)
		}
		l.stored = append(l.stored, h...)
		l.size++
	}
	return l
}

func (l *e2eLog) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = l.stored[x]
		}
		return out, nil
	})
}

// request returns an add-checkpoint body for the checkpoint of size to,
// proving consistency from size from.
func (l *e2eLog) request(t *testing.T, from, to int64) (body, checkpoint []byte) {
	root, err := tlog.TreeHash(to, l.reader())
	if err != nil {
		t.Fatal(err)
	}
	checkpoint, err = note.Sign(&note.Note{Text: string(log.Checkpoint{Origin: l.origin, Size: uint64(to), Hash: root}.Marshal())}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", from)
	if from > 0 && from < to {
		p, err := tlog.ProveTree(to, from, l.reader())
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range p {
			b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(checkpoint)
	return b.Bytes(), checkpoint
}

// buildBinary builds the real tabwitness command.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tabwitness")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe runs tabwitness serve and returns the base URLs of its n
// listeners once they listen.
func startServe(t *testing.T, bin, config string, n int) (*exec.Cmd, []string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", config)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, n)
	go func() {
		re := regexp.MustCompile(`msg=listening addr=(\S+)`)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			t.Log(s.Text())
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var urls []string
	for len(urls) < n {
		select {
		case a := <-addr:
			urls = append(urls, "http://"+a)
		case <-time.After(30 * time.Second):
			t.Fatal("tabwitness serve did not start listening")
		}
	}
	return cmd, urls
}

func postE2E(t *testing.T, url string, body []byte) (int, string, []byte) {
	t.Helper()
	r, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, r.Header.Get("Content-Type"), b
}

func TestEndToEndBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "witness.key")

	out, err := exec.Command(bin, "keygen", "--name", "witness.example/e2e", "--out", keyFile).Output()
	if err != nil {
		t.Fatalf("keygen: %v", err)
	}
	vkey := strings.TrimSpace(string(out))
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	if err := exec.Command(bin, "keygen", "--name", "other", "--out", keyFile).Run(); err == nil {
		t.Fatal("keygen overwrote an existing key")
	}

	l := newE2ELog(t, "example.com/e2e-log", 20)
	config := filepath.Join(dir, "witness.yaml")
	os.WriteFile(config, fmt.Appendf(nil, "key_file: witness.key\nlisten: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\nstore:\n  sqlite: witness.db\nlogs:\n  - origin: %s\n    vkey: %s\n", l.origin, l.vkey), 0o644)

	cmd, urls := startServe(t, bin, config, 2)
	url := urls[0]
	body, checkpoint := l.request(t, 0, 10)
	code, _, resp := postE2E(t, url, body)
	if code != http.StatusOK {
		t.Fatalf("add-checkpoint: %d %s", code, resp)
	}
	cv, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	lv, _ := log.NewVerifier(l.vkey)
	if _, err := note.Open(append(checkpoint, resp...), note.VerifierList(lv, cv)); err != nil {
		t.Fatalf("cosignature does not verify with the independent verifier: %v", err)
	}

	r, err := http.Get(urls[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !regexp.MustCompile(`tabularium_witness_cosigned_total\{[^}]*origin="example.com/e2e-log"[^}]*\} 1`).Match(metrics) {
		t.Errorf("metrics do not count the cosignature:\n%s", metrics)
	}
	// Graceful shutdown on SIGTERM.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}

	// A restarted witness remembers size 10 and refuses a rollback.
	_, urls = startServe(t, bin, config, 2)
	url = urls[0]
	body, _ = l.request(t, 0, 5)
	if code, ctype, resp := postE2E(t, url, body); code != http.StatusConflict || ctype != "text/x.tlog.size" || string(resp) != "10\n" {
		t.Fatalf("rollback after restart: %d %q %q", code, ctype, resp)
	}
	body, _ = l.request(t, 10, 20)
	if code, _, resp := postE2E(t, url, body); code != http.StatusOK {
		t.Fatalf("extending after restart: %d %s", code, resp)
	}
}
