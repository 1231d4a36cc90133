package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBadRequestsChangeNothing sends malformed, oversized, truncated and slow
// requests to a real server: each gets a clean 4xx or is cut off by a timeout,
// nothing panics, and the log does not grow.
func TestBadRequestsChangeNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := openServer(ctx, DefaultConfig(t.TempDir()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(s.handler(), slog.New(slog.DiscardHandler))
	srv.ReadHeaderTimeout = time.Second
	srv.ReadTimeout = 2 * time.Second
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	land := s.logs[0].log

	for name, tc := range map[string]struct {
		body  []byte
		ctype string
		want  int
	}{
		"empty":          {nil, "application/cose", http.StatusBadRequest},
		"garbage":        {[]byte("not cbor at all"), "application/cose", http.StatusBadRequest},
		"oversized":      {bytes.Repeat([]byte{0xa0}, 70<<10), "application/cose", http.StatusRequestEntityTooLarge},
		"wrong type":     {[]byte("{}"), "application/json", http.StatusUnsupportedMediaType},
		"truncated cbor": {[]byte{0xd8, 0x62, 0x84, 0x40}, "application/cose", http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := http.Post(base+"/logs/land/entries", tc.ctype, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
		})
	}

	// A body shorter than its Content-Length, then the connection closes.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /logs/land/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/cose\r\nContent-Length: 5000\r\n\r\n\xd8\x62\x84")
	conn.Close()

	// Slowloris: headers that never end are cut off by ReadHeaderTimeout.
	slow, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	fmt.Fprintf(slow, "GET /logs HTTP/1.1\r\nHost: x\r\n")
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 50; i++ {
			if _, err := fmt.Fprintf(slow, "X-Slow-%d: y\r\n", i); err != nil {
				done <- err
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		done <- nil
	}()
	_, _ = bufio.NewReader(slow).ReadString('\n')
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("slow headers held the connection for %v", took)
	}

	// A body sent slowly is cut off by ReadTimeout.
	slowBody, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slowBody.Close()
	start = time.Now()
	fmt.Fprintf(slowBody, "POST /logs/land/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/cose\r\nContent-Length: 60000\r\n\r\n")
	go func() {
		for i := 0; i < 100; i++ {
			if _, err := slowBody.Write([]byte{0xa0}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	line, _ := bufio.NewReader(slowBody).ReadString('\n')
	if took := time.Since(start); took > 6*time.Second {
		t.Fatalf("a slow body held the connection for %v", took)
	}
	if line != "" && !strings.Contains(line, " 4") {
		t.Fatalf("slow body answered %q, want a 4xx or a closed connection", line)
	}

	if n, err := land.IntegratedSize(ctx); err != nil || n != 0 {
		t.Fatalf("after bad requests the log has %d entries (%v), want 0", n, err)
	}
	if got := status(t, base+"/healthz"); got != 200 {
		t.Fatalf("server unhealthy after bad requests: %d", got)
	}
}
