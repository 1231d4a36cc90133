// Package binarytest builds the project's commands and runs them for end-to-end
// tests: the real binaries, talking over loopback.
package binarytest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// Build builds the command in the package folder pkg (relative to the test's
// folder, e.g. "." or "../tabularium") into a temporary folder and returns the
// binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	abs, err := filepath.Abs(pkg)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(abs))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// servingRE matches the line "tabularium serve" prints once its logs are open.
var servingRE = regexp.MustCompile(`^tabularium serving \d+ logs on (\S+)/logs$`)

// StartServe runs "bin serve args..." (a tabularium binary), waits until it
// prints that its logs are open, and returns the process and its base URL. The
// process is killed when the test ends; its standard error is shown only with
// go test -v.
func StartServe(t testing.TB, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return cmd, u
	case <-time.After(60 * time.Second):
		t.Fatal("tabularium serve did not start")
	}
	return nil, ""
}
