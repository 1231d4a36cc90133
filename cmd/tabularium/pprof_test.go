package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"testing"
)

// TestProfilesOnlyOnTheirLoopbackListener: the metrics listener, which
// metrics_public may expose, serves no profile; profiles are served only on
// pprof_listen, which is off by default and refused on any address but a
// loopback IP, metrics_public or not.
func TestProfilesOnlyOnTheirLoopbackListener(t *testing.T) {
	for name, y := range map[string]string{
		"all interfaces":             "pprof_listen: ':6060'",
		"public address":             "pprof_listen: 0.0.0.0:6060",
		"public with metrics_public": "metrics_listen: 0.0.0.0:9464\nmetrics_public: true\npprof_listen: 0.0.0.0:6060",
		"a name, not an IP":          "pprof_listen: localhost:6060",
		"no port":                    "pprof_listen: 127.0.0.1",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseConfig([]byte(y+"\nlogs: [{name: land, registry: land}]"), "/"); err == nil {
				t.Fatalf("accepted %q", y)
			}
		})
	}
	c, err := ParseConfig([]byte("logs: [{name: land, registry: land}]"), "/")
	if err != nil || c.PprofListen != "off" {
		t.Fatalf("default pprof_listen = %q, %v; want off", c.PprofListen, err)
	}
	if _, err := ParseConfig([]byte("pprof_listen: '[::1]:6060'\nlogs: [{name: land, registry: land}]"), "/"); err != nil {
		t.Fatalf("refused a loopback pprof_listen: %v", err)
	}

	cfg := DefaultConfig(t.TempDir())
	cfg.Logs = cfg.Logs[:1]
	cfg.Listen, cfg.MetricsListen, cfg.PprofListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	addrRE := regexp.MustCompile(`msg="(metrics|pprof) listening" addr=(\S+)`)
	errDone := errors.New("checked")
	got := map[string]int{}
	err = serve(t.Context(), cfg, logger, io.Discard, serveHooks{ready: func(ctx context.Context, s *server, base string) error {
		mu.Lock()
		found := addrRE.FindAllStringSubmatch(logs.String(), -1)
		mu.Unlock()
		for _, m := range found {
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/metrics"} {
				resp, err := http.Get("http://" + m[2] + path)
				if err != nil {
					return err
				}
				resp.Body.Close()
				got[m[1]+path] = resp.StatusCode
			}
		}
		return errDone
	}})
	if !errors.Is(err, errDone) {
		t.Fatalf("serve: %v", err)
	}
	want := map[string]int{
		"metrics/debug/pprof/": 404, "metrics/debug/pprof/heap": 404, "metrics/metrics": 200,
		"pprof/debug/pprof/": 200, "pprof/debug/pprof/heap": 200, "pprof/metrics": 404,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("GET %s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
