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
	"time"

	"github.com/tabularium/tabularium/witness"
	"github.com/tabularium/tabularium/witness/sqlstore"
)

// shutdownGrace is how long in-flight requests get to finish on shutdown.
const shutdownGrace = 10 * time.Second

// runServe runs the witness until ctx is done, then shuts down gracefully.
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("tabwitness serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *configPath == "" {
		fs.Usage()
		return errUsage
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	skey, err := readSecret(cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("key_file: %w", err)
	}
	store, err := openStore(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer store.Close()
	meter, metricsHandler, err := newMetrics()
	if err != nil {
		return err
	}
	w, err := witness.New(witness.Config{SignerKey: skey, Logs: cfg.witnessLogs(), Store: store, Logger: logger, Meter: meter})
	if err != nil {
		return err
	}
	servers := []*http.Server{newServer(w, logger)}
	addrs := []string{cfg.Listen}
	if cfg.MetricsListen != "" {
		servers = append(servers, newServer(metricsHandler, logger))
		addrs = append(addrs, cfg.MetricsListen)
	}
	listeners, err := listen(addrs)
	if err != nil {
		return err
	}
	logger.Info("witness started", "name", w.Name(), "vkey", w.VerifierKey(), "logs", len(cfg.Logs))
	return serveUntilDone(ctx, w, servers, listeners, logger)
}

func newLogger(out io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("config: log_level: %w", err)
		}
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: l})), nil
}

// closingStore is a witness.Store that can be closed.
type closingStore interface {
	witness.Store
	Close() error
}

func openStore(ctx context.Context, c storeConfig) (closingStore, error) {
	if c.SQLite != "" {
		return sqlstore.OpenSQLite(ctx, c.SQLite)
	}
	dsn, err := readSecret(c.MySQLDSNFile)
	if err != nil {
		return nil, fmt.Errorf("store: mysql_dsn_file: %w", err)
	}
	return sqlstore.OpenMySQL(ctx, dsn, c.MySQLTable)
}

func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func listen(addrs []string) ([]net.Listener, error) {
	var ls []net.Listener
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, fmt.Errorf("listen: %w", err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// serveUntilDone serves until ctx is done or a server fails, then stops the
// pollers and shuts the servers down, letting requests in flight finish.
func serveUntilDone(ctx context.Context, w *witness.Witness, servers []*http.Server, ls []net.Listener, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(servers))
	for i, s := range servers {
		logger.Info("listening", "addr", ls[i].Addr().String())
		go func() { errc <- s.Serve(ls[i]) }()
	}
	pollers := make(chan struct{})
	go func() { w.Run(ctx); close(pollers) }()

	var err error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err = <-errc:
		err = fmt.Errorf("serving: %w", err)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer scancel()
	for _, s := range servers {
		if serr := s.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, fmt.Errorf("shutdown: %w", serr))
		}
	}
	<-pollers
	return err
}
