package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/cmd/internal/binarytest"

	"github.com/tabularium/tabularium/personality/rules"
)

// lastJSONLine runs tab with args and decodes the last line of its output.
func lastJSONLine(t *testing.T, args ...string) report {
	t.Helper()
	var out, errb bytes.Buffer
	if err := Run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("tab %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	var rep report
	dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("last line is not the report: %v\n%s", err, out.String())
	}
	return rep
}

// TestBenchHonoursRetryAfter runs the raw mode against a fake log that pushes
// back and fails now and then: a 503 is retried after its Retry-After and
// counted apart, any other failure is counted by status and not retried.
func TestBenchHonoursRetryAfter(t *testing.T) {
	var n, index atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil || r.Method != http.MethodPost {
			t.Errorf("bad request %s: %v", r.Method, err)
		}
		switch n.Add(1) % 7 {
		case 1, 4:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		case 5:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			fmt.Fprint(w, index.Add(1)-1)
		}
	}))
	defer srv.Close()
	rep := lastJSONLine(t, "bench", "--raw-add", srv.URL+"/add", "--count", "40", "--clients", "1")
	if rep.Submitted != 40 || rep.Acknowledged+rep.Errors["500"] != 40 || rep.Errors["500"] == 0 || rep.Retries503 == 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.AckLatency == nil || rep.AckLatency.N != rep.Acknowledged || rep.AckLatency.P50 > rep.AckLatency.Max {
		t.Fatalf("latency %+v", rep.AckLatency)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"3", 3 * time.Second},
		{" 0 ", 0},
		{now.Add(2 * time.Second).Format(http.TimeFormat), 2 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"", time.Second},
		{"-1", time.Second},
		{"soon", time.Second},
	} {
		if got := retryAfter(c.v, now); got != c.want {
			t.Errorf("retryAfter(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestSummarise(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := summarise(d)
	want := latency{N: 100, P50: 50, P90: 90, P99: 99, Max: 100}
	if *got != want {
		t.Fatalf("summarise = %+v, want %+v", got, want)
	}
	if summarise(nil) != nil {
		t.Fatal("no samples must give no summary")
	}
}

// startTabularium builds and starts the real server on a free loopback port
// and returns its URL, data folder and process id.
func startTabularium(t *testing.T) (string, string, int) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cmd, url := binarytest.StartServe(t, binarytest.Build(t, "../tabularium"), "--data", data, "--listen", "127.0.0.1:0", "--metrics-listen", "off")
	return url, data, cmd.Process.Pid
}

// TestBenchAgainstServer runs the mixed bench against the real server binary
// for a small count and checks the report and that every acknowledged entry
// is the latest entry of its object in the server's state.
func TestBenchAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	url, data, pid := startTabularium(t)
	args := []string{"--server", url, "--mix", "mixed", "--count", "60", "--clients", "6", "--data", data,
		"--wait-published", "--read-load", "20", "--server-pid", strconv.Itoa(pid), "--duration", "2m"}
	rep := lastJSONLine(t, append([]string{"bench"}, args...)...)
	if rep.Acknowledged != 60 || len(rep.Errors) != 0 || rep.Skipped != 0 || rep.Abandoned != 0 || rep.Retries503 != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, l := range []string{"diplomas", "land", "vaccinations"} {
		if rep.ByLog[l] == 0 {
			t.Errorf("no entries in log %s: %v", l, rep.ByLog)
		}
	}
	if p := rep.PublishedLatency; p == nil || p.N != 60 || rep.Unpublished != 0 || p.P50 < rep.AckLatency.P50 {
		t.Errorf("published latency %+v, ack latency %+v, unpublished %d", p, rep.AckLatency, rep.Unpublished)
	}
	if rep.SignaturesPerEntry < 1 || rep.SignaturesPerEntry > 4 || rep.ServerRSS == 0 {
		t.Errorf("signatures/entry %v, RSS %d", rep.SignaturesPerEntry, rep.ServerRSS)
	}
	if rep.Reads == 0 || len(rep.ReadErrors) != 0 {
		t.Errorf("reads %d, errors %v", rep.Reads, rep.ReadErrors)
	}

	// Run again, keeping the objects, and read each one's state back.
	c, err := parseBenchFlags(append(args, "--read-load", "0"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.keepObjects, c.waitPublished, c.progress = true, false, io.Discard
	rep2, err := bench(context.Background(), c)
	if err != nil || rep2.Acknowledged != 60 || len(rep2.Errors) != 0 {
		t.Fatalf("second run: %v %+v", err, rep2)
	}
	for k, want := range rep2.objects {
		var o rules.Object
		getJSON(t, url+"/logs/"+k.log+"/objects/"+k.id, &o)
		if hex.EncodeToString(o.Hash) != hex.EncodeToString(want.last[:]) || len(o.History) != want.entries {
			t.Errorf("%s %s: latest %x after %d entries, want %x after %d", k.log, k.id, []byte(o.Hash), len(o.History), want.last, want.entries)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestBenchDevDataIsData: --dev-data, as issue 7 names it, is --data.
func TestBenchDevDataIsData(t *testing.T) {
	c, err := parseBenchFlags([]string{"--dev-data", "/tmp/dev", "--duration", "1s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.data != "/tmp/dev" {
		t.Errorf("--dev-data set data to %q", c.data)
	}
}
