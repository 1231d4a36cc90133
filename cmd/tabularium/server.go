package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/log/tiles"
	"github.com/tabularium/tabularium/personality/api"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/state"
	"golang.org/x/mod/sumdb/note"
)

// servedLog is one open log and its configuration.
type servedLog struct {
	cfg   LogConfig
	log   *engine.Log
	reg   *registry.Registry
	store *state.Store
	// issuer builds the certificates of GET /logs/{name}/proof/{index}.
	issuer *client.Issuer
}

// server is the set of open logs and the HTTP API over them.
type server struct {
	cfg    Config
	logger *slog.Logger
	logs   []*servedLog
}

// openServer opens every configured log, generating default keys on first start.
func openServer(ctx context.Context, cfg Config, logger *slog.Logger) (*server, error) {
	if err := migrateLayout(cfg, logger); err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, logger: logger}
	for _, lc := range cfg.Logs {
		l, err := openLog(ctx, lc, logger)
		if err != nil {
			s.close(context.Background())
			return nil, fmt.Errorf("log %s: %w", lc.Name, err)
		}
		sl := &servedLog{cfg: lc, log: l}
		s.logs = append(s.logs, sl)
		if sl.reg, sl.store, err = openRegistry(ctx, cfg, lc, l, logger); err != nil {
			s.close(context.Background())
			return nil, fmt.Errorf("registry %s: %w", lc.Name, err)
		}
		if sl.issuer, err = client.NewIssuer(l.Reader(), sl.reg, sl.store); err != nil {
			s.close(context.Background())
			return nil, fmt.Errorf("log %s: %w", lc.Name, err)
		}
	}
	return s, nil
}

// logKey returns the log's signer key, generating the default key file on first
// start when the configuration names none.
func logKey(lc LogConfig, logger *slog.Logger) (string, error) {
	skey, created, err := keyfile.ReadOrCreate(lc.KeyFile, func() (string, error) {
		if !lc.generateKey {
			return "", fmt.Errorf("key file %s does not exist; make one with tabularium keygen", lc.KeyFile)
		}
		sk, _, err := log.GenerateKey(lc.Origin)
		return sk, err
	})
	if created {
		logger.Info("generated a checkpoint key", "log", lc.Name, "file", lc.KeyFile)
	}
	return skey, err
}

func openLog(ctx context.Context, lc LogConfig, logger *slog.Logger) (*engine.Log, error) {
	skey, err := logKey(lc, logger)
	if err != nil {
		return nil, err
	}
	signer, err := log.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	if signer.Name() != lc.Origin {
		return nil, fmt.Errorf("key is named %q but the log's origin is %q", signer.Name(), lc.Origin)
	}
	vkey, err := log.VerifierKey(skey)
	if err != nil {
		return nil, err
	}
	opts := engine.Options{
		BatchMaxSize:           lc.BatchMaxSize,
		BatchMaxAge:            lc.BatchMaxAge,
		CheckpointInterval:     lc.CheckpointInterval,
		RepublishInterval:      lc.RepublishInterval,
		PushbackMaxOutstanding: lc.PushbackMaxOutstanding,
		MaxPending:             lc.MaxPending,
		NoAntispam:             lc.Antispam != nil && !*lc.Antispam,
		WitnessTimeout:         lc.WitnessTimeout,
	}
	if lc.WitnessPolicy != "" {
		if opts.WitnessPolicy, err = readWitnessPolicy(lc.WitnessPolicy, lc.Origin, vkey); err != nil {
			return nil, err
		}
	}
	if lc.Storage.Kind == "s3" {
		return openAWSLog(ctx, lc, signer, vkey, opts, logger)
	}
	return engine.OpenPOSIX(ctx, engine.POSIXConfig{
		Dir: lc.Storage.Dir, Signer: signer, VKey: vkey, Options: opts,
		Logger: logger.With("log", lc.Name),
	})
}

// openAWSLog opens a log of storage kind s3, reading its secrets from their
// files (mode 0600).
func openAWSLog(ctx context.Context, lc LogConfig, signer note.Signer, vkey string, opts engine.Options, logger *slog.Logger) (*engine.Log, error) {
	st := lc.Storage
	dsn, err := keyfile.Read(st.MySQLDSNFile)
	if err != nil {
		return nil, fmt.Errorf("mysql_dsn_file: %w", err)
	}
	cfg := engine.AWSConfig{
		Endpoint: st.Endpoint, Region: st.Region, Bucket: st.Bucket, Prefix: st.Prefix, PathStyle: st.PathStyle,
		DSN: dsn, Signer: signer, VKey: vkey, Options: opts, Logger: logger.With("log", lc.Name),
	}
	if st.CredentialsFile != "" {
		c, err := engine.ReadAWSCredentials(st.CredentialsFile)
		if err != nil {
			return nil, err
		}
		cfg.Credentials = &c
	}
	return engine.OpenAWS(ctx, cfg)
}

// LogInfo is one element of GET /logs.
type LogInfo struct {
	Name   string `json:"name"`
	Origin string `json:"origin"`
	VKey   string `json:"vkey"`
	URL    string `json:"url"`
}

// handler returns the public HTTP API.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	regs := map[string]*registry.Registry{}
	for _, sl := range s.logs {
		regs[sl.cfg.Name] = sl.reg
	}
	api.New(regs, s.logger).Register(mux)
	infos := make([]LogInfo, 0, len(s.logs))
	for _, sl := range s.logs {
		base := "/logs/" + sl.cfg.Name + "/"
		infos = append(infos, LogInfo{Name: sl.cfg.Name, Origin: sl.log.Origin(), VKey: sl.log.VerifierKey(), URL: base})
		mux.Handle("GET "+base+"{path...}", tiles.Handler{Reader: sl.log.Reader(), Logger: s.logger.With("log", sl.cfg.Name)})
		mux.Handle("GET "+base+"proof/{index}", proofHandler{issuer: sl.issuer, logger: s.logger.With("log", sl.cfg.Name)})
	}
	mux.HandleFunc("GET /logs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_ = json.NewEncoder(w).Encode(infos)
	})
	mux.HandleFunc("GET /logs/{name}/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, fmt.Sprintf("no log named %q", r.PathValue("name")), http.StatusNotFound)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
}

// readyz answers 200 when every log is open and its checkpoint readable and valid.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	for _, sl := range s.logs {
		if err := checkCheckpoint(r.Context(), sl.log); err != nil {
			http.Error(w, fmt.Sprintf("log %s not ready: %v", sl.cfg.Name, err), http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

func checkCheckpoint(ctx context.Context, l *engine.Log) error {
	cp, err := l.Reader().ReadCheckpoint(ctx)
	if err != nil {
		return err
	}
	_, _, err = log.OpenCheckpoint(cp, l.Origin(), l.Verifier())
	return err
}

// close closes every log, letting acknowledged entries be published.
func (s *server) close(ctx context.Context) error {
	var errs []error
	for _, sl := range s.logs {
		errs = append(errs, sl.log.Close(ctx))
		if sl.store != nil {
			errs = append(errs, sl.store.Close())
		}
	}
	return errors.Join(errs...)
}

// newHTTPServer returns a server with timeouts set against slow or idle clients.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serveUntilDone serves on ln until ctx is done, then shuts down gracefully.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return srv.Shutdown(sctx)
}

// readWitnessPolicy reads and checks a log's witness policy: it must parse
// strictly, name every witness's URL, and, if it lists this log, with its key.
func readWitnessPolicy(path, origin, vkey string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("witness policy: %w", err)
	}
	p, err := log.ParsePolicy(b)
	if err != nil {
		return nil, fmt.Errorf("witness policy %s: %w", path, err)
	}
	for _, w := range p.Witnesses {
		if w.URL == "" {
			return nil, fmt.Errorf("witness policy %s: witness %s has no URL to send checkpoints to", path, w.Name)
		}
	}
	for _, l := range p.Logs {
		if l.Verifier.Name() == origin && l.VKey != vkey {
			return nil, fmt.Errorf("witness policy %s: lists log key %s, but this log's key is %s", path, l.VKey, vkey)
		}
	}
	return b, nil
}
