package witness

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
)

// DefaultPollInterval is how often a log with a URL is polled when its
// PollInterval is zero.
const DefaultPollInterval = time.Minute

// Config configures a Witness.
type Config struct {
	// SignerKey is the witness's Ed25519 signer key in signed-note form
	// (PRIVATE+KEY+name+hash+key), as made by log.GenerateKey. Its name is the
	// witness's name.
	SignerKey string
	// Logs are the logs the witness cosigns. Origins must be unique.
	Logs []Log
	// Store keeps the latest cosigned checkpoint of each log. Required.
	Store Store
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Meter creates the witness's counters; nil uses the global OpenTelemetry
	// meter provider.
	Meter metric.Meter
	// Client fetches checkpoints and tiles in pull mode; nil uses a client with
	// a 30 second timeout.
	Client *http.Client
	// Now is the clock for cosignature timestamps; nil uses time.Now.
	Now func() time.Time
}

// Log is a log the witness knows.
type Log struct {
	// Origin is the checkpoint origin line that identifies the log.
	Origin string
	// VKey is the log's verifier key in signed-note form (Ed25519 or ECDSA).
	VKey string
	// URL, if set, is the log's c2sp.org/tlog-tiles prefix: the witness polls
	// URL/checkpoint and proves consistency from URL/tile/... itself.
	URL string
	// PollInterval is the time between polls of URL; zero means
	// DefaultPollInterval.
	PollInterval time.Duration
}

// knownLog is a configured log with its parsed key.
type knownLog struct {
	Log
	verifier note.Verifier
}

// Witness cosigns checkpoints of the logs it knows. It is an http.Handler
// serving c2sp.org/tlog-witness; its methods are safe for concurrent use.
type Witness struct {
	cosigner *log.Cosigner
	vkey     string
	logs     map[string]*knownLog // by origin
	byHash   map[string]string    // hex SHA-256 of origin → origin
	store    Store
	logger   *slog.Logger
	metrics  *metrics
	client   *http.Client
	mux      *http.ServeMux
}

// New returns a Witness for cfg. It does no I/O; call Run to start polling the
// logs that have a URL.
func New(cfg Config) (*Witness, error) {
	if cfg.Store == nil {
		return nil, errors.New("witness: no store")
	}
	cosigner, err := log.NewCosigner(cfg.SignerKey, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("witness: signer key: %w", err)
	}
	vkey, err := log.VerifierKey(cfg.SignerKey)
	if err != nil {
		return nil, fmt.Errorf("witness: signer key: %w", err)
	}
	if vkey, err = log.CosignatureVKey(vkey); err != nil {
		return nil, fmt.Errorf("witness: signer key: %w", err)
	}
	w := &Witness{
		cosigner: cosigner,
		vkey:     vkey,
		logs:     map[string]*knownLog{},
		byHash:   map[string]string{},
		store:    cfg.Store,
		logger:   cfg.Logger,
		client:   cfg.Client,
	}
	if w.logger == nil {
		w.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if w.client == nil {
		w.client = &http.Client{Timeout: 30 * time.Second}
	}
	for _, l := range cfg.Logs {
		if err := w.addLog(l); err != nil {
			return nil, err
		}
	}
	meter := cfg.Meter
	if meter == nil {
		meter = otel.GetMeterProvider().Meter("github.com/tabularium/tabularium/witness")
	}
	if w.metrics, err = newMetrics(meter); err != nil {
		return nil, fmt.Errorf("witness: metrics: %w", err)
	}
	w.mux = w.routes()
	return w, nil
}

func (w *Witness) addLog(l Log) error {
	if l.Origin == "" || strings.ContainsAny(l.Origin, "\n\r") {
		return fmt.Errorf("witness: log origin %q is not a single non-empty line", l.Origin)
	}
	if _, dup := w.logs[l.Origin]; dup {
		return fmt.Errorf("witness: log %q is configured twice", l.Origin)
	}
	if isCosignatureKey(l.VKey) {
		return fmt.Errorf("witness: log %q: key %q is a cosignature key, not a log key", l.Origin, l.VKey)
	}
	v, err := log.NewVerifier(l.VKey)
	if err != nil {
		return fmt.Errorf("witness: log %q: %w", l.Origin, err)
	}
	if l.PollInterval < 0 {
		return fmt.Errorf("witness: log %q: negative poll interval", l.Origin)
	}
	if l.PollInterval == 0 {
		l.PollInterval = DefaultPollInterval
	}
	l.URL = strings.TrimSuffix(l.URL, "/")
	w.logs[l.Origin] = &knownLog{Log: l, verifier: v}
	w.byHash[OriginHash(l.Origin)] = l.Origin
	return nil
}

// isCosignatureKey reports whether vkey has the cosignature/v1 key type.
func isCosignatureKey(vkey string) bool {
	typ, err := log.KeyType(vkey)
	return err == nil && typ == log.KeyTypeCosignatureV1
}

// VerifierKey returns the witness's cosignature/v1 verifier key (type 0x04),
// the key a trust policy names.
func (w *Witness) VerifierKey() string { return w.vkey }

// Name returns the witness's key name.
func (w *Witness) Name() string { return w.cosigner.Name() }

// OriginHash returns the lowercase hex SHA-256 of a log origin, which names the
// log in the witness's monitoring URLs: GET /<origin hash>/checkpoint.
func OriginHash(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:])
}
