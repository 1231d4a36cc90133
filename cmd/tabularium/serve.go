package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"k8s.io/klog/v2"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (see README.md); without it, the embedded default")
	data := fs.String("data", "", "data folder (default "+DefaultData+")")
	listen := fs.String("listen", "", "address of the public API (default "+DefaultListen+")")
	metricsListen := fs.String("metrics-listen", "", `address of the Prometheus metrics listener, or "off" (default `+DefaultMetricsListen+")")
	pprofListen := fs.String("pprof-listen", "", `loopback address of Go's profiles (/debug/pprof/), or "off" (default off)`)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := commandLogger(fs, *logLevel, stderr)
	if err != nil {
		return err
	}

	var cfg Config
	if *configPath != "" {
		if cfg, err = LoadConfig(*configPath); err != nil {
			return err
		}
	} else {
		d := *data
		if d == "" {
			d = DefaultData
		}
		cfg = DefaultConfig(d)
	}
	if *data != "" && *configPath != "" {
		return errors.New("--data and --config do not mix: set data in the configuration file")
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *metricsListen != "" {
		cfg.MetricsListen = *metricsListen
	}
	if *pprofListen != "" {
		cfg.PprofListen = *pprofListen
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return serve(ctx, cfg, logger, stdout, serveHooks{})
}

// serveHooks let a command add to the server: routes mounted beside the API, and
// a function run once the server listens (its error stops the server).
type serveHooks struct {
	routes map[string]http.Handler
	ready  func(ctx context.Context, s *server, baseURL string) error
}

// serve runs the server until ctx is done, then shuts down gracefully: the
// listeners stop accepting, in-flight requests (and their appends) finish, and the
// logs publish a checkpoint covering every acknowledged entry.
func serve(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer, hooks serveHooks) error {
	metrics, err := newMetrics()
	if err != nil {
		return err
	}
	defer metrics.shutdown(context.Background())
	if os.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimitMiB > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimitMiB) << 20)
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Side listeners: metrics, and profiles (loopback only, see Validate).
	var side []sideListener
	for _, sl := range []sideListener{{"metrics", cfg.MetricsListen, metrics.handler, nil}, {"pprof", cfg.PprofListen, pprofHandler(), nil}} {
		if sl.addr == "off" || sl.addr == "" {
			continue
		}
		if sl.ln, err = net.Listen("tcp", sl.addr); err != nil {
			ln.Close()
			closeSide(side)
			return fmt.Errorf("%s listen: %w", sl.name, err)
		}
		side = append(side, sl)
	}
	// The listener serves from the start: the hooks' routes (in-process
	// witnesses, which a log with a witness policy needs before it opens), and
	// 503 for the API until every log is open.
	var api atomic.Pointer[http.Handler]
	mux := http.NewServeMux()
	for pattern, h := range hooks.routes {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if h := api.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "1")
		http.Error(w, "starting: the logs are not open yet", http.StatusServiceUnavailable)
	})
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return serveUntilDone(gctx, newHTTPServer(mux, logger), ln, cfg.ShutdownTimeout)
	})
	for _, sl := range side {
		logger.Info(sl.name+" listening", "addr", sl.ln.Addr().String())
		g.Go(func() error {
			return serveUntilDone(gctx, newHTTPServer(sl.h, logger), sl.ln, cfg.ShutdownTimeout)
		})
	}
	s, err := openServer(gctx, cfg, logger)
	if err != nil {
		ln.Close()
		closeSide(side)
		_ = g.Wait()
		return err
	}
	for _, sl := range s.logs {
		logger.Info("log open", "name", sl.cfg.Name, "origin", sl.log.Origin(), "vkey", sl.log.VerifierKey(), "dir", sl.cfg.Storage.Dir)
	}
	h := s.handler()
	api.Store(&h)
	fmt.Fprintf(stdout, "tabularium serving %d logs on http://%s/logs\n", len(s.logs), ln.Addr())
	if hooks.ready != nil {
		g.Go(func() error { return hooks.ready(gctx, s, "http://"+ln.Addr().String()) })
	}
	err = g.Wait()
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		err = nil
	}
	logger.Info("shutting down: publishing acknowledged entries")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(err, s.close(sctx))
}

// sideListener is a listener beside the public API: metrics or profiles.
type sideListener struct {
	name, addr string
	h          http.Handler
	ln         net.Listener
}

func closeSide(side []sideListener) {
	for _, sl := range side {
		sl.ln.Close()
	}
}

// commandLogger checks that a command got no arguments beyond its flags and
// returns its structured logger at the given level, with tessera's klog output
// routed into it.
func commandLogger(fs *flag.FlagSet, level string, stderr io.Writer) (*slog.Logger, error) {
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s takes no arguments, got %q", fs.Name(), fs.Args())
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l}))
	klog.SetSlogLogger(logger.With("component", "tessera"))
	return logger, nil
}
