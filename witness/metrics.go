package witness

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// metrics are the witness's OpenTelemetry counters.
type metrics struct {
	cosigned metric.Int64Counter
	refused  metric.Int64Counter
}

func newMetrics(m metric.Meter) (*metrics, error) {
	cosigned, err := m.Int64Counter("tabularium.witness.cosigned",
		metric.WithDescription("Checkpoints cosigned, by log origin."))
	if err != nil {
		return nil, err
	}
	refused, err := m.Int64Counter("tabularium.witness.refused",
		metric.WithDescription("Checkpoints refused, by log origin and reason."))
	if err != nil {
		return nil, err
	}
	return &metrics{cosigned: cosigned, refused: refused}, nil
}

// record counts the outcome of one add-checkpoint for a known origin. Refusals
// of unknown origins are counted without the origin, which is not trusted.
func (m *metrics) record(ctx context.Context, origin string, known bool, err error) {
	if !known {
		origin = ""
	}
	o := attribute.String("origin", origin)
	if err == nil {
		m.cosigned.Add(ctx, 1, metric.WithAttributes(o))
		return
	}
	m.refused.Add(ctx, 1, metric.WithAttributes(o, attribute.String("reason", reason(err))))
}

// reason names the sentinel error in err for metrics and logs.
func reason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{ErrUnknownLog, "unknown_log"},
		{ErrUnverified, "unverified"},
		{ErrMalformed, "malformed"},
		{ErrOldSizeTooLarge, "old_size_too_large"},
		{ErrOldSizeMismatch, "old_size_mismatch"},
		{ErrInconsistent, "inconsistent"},
		{ErrFork, "fork"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "internal"
}
