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
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	klog.SetSlogLogger(logger.With("component", "tessera"))

	var cfg Config
	if *configPath != "" {
		var err error
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
	if err := cfg.Validate(); err != nil {
		return err
	}
	return serve(ctx, cfg, logger, stdout)
}

// serve runs the server until ctx is done, then shuts down gracefully: the
// listeners stop accepting, in-flight requests (and their appends) finish, and the
// logs publish a checkpoint covering every acknowledged entry.
func serve(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	metrics, err := newMetrics()
	if err != nil {
		return err
	}
	defer metrics.shutdown(context.Background())

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var mln net.Listener
	if cfg.MetricsListen != "off" {
		if mln, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			ln.Close()
			return fmt.Errorf("metrics listen: %w", err)
		}
	}
	s, err := openServer(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return err
	}
	for _, sl := range s.logs {
		logger.Info("log open", "name", sl.cfg.Name, "origin", sl.log.Origin(), "vkey", sl.log.VerifierKey(), "dir", sl.cfg.Storage.Dir)
	}
	fmt.Fprintf(stdout, "tabularium serving %d logs on http://%s/logs\n", len(s.logs), ln.Addr())

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return serveUntilDone(gctx, newHTTPServer(s.handler(), logger), ln, cfg.ShutdownTimeout)
	})
	if mln != nil {
		logger.Info("metrics listening", "addr", mln.Addr().String())
		g.Go(func() error {
			return serveUntilDone(gctx, newHTTPServer(metrics.handler, logger), mln, cfg.ShutdownTimeout)
		})
	}
	err = g.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	logger.Info("shutting down: publishing acknowledged entries")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(err, s.close(sctx))
}
