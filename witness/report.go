package witness

import (
	"context"
	"errors"
	"log/slog"
)

// report counts and logs the outcome of one add-checkpoint request.
func (w *Witness) report(ctx context.Context, origin string, req AddCheckpointRequest, err error) {
	_, known := w.logs[origin]
	w.metrics.record(ctx, origin, known, err)
	if !known {
		origin = truncate([]byte(origin))
	}
	attrs := []any{slog.String("origin", origin), slog.Uint64("old_size", req.OldSize)}
	var conflict *ConflictError
	switch {
	case err == nil:
		w.logger.InfoContext(ctx, "cosigned checkpoint", attrs...)
	case errors.Is(err, ErrFork), errors.Is(err, ErrInconsistent):
		// Possible evidence of log misbehaviour: keep the signed checkpoint.
		attrs = append(attrs, slog.String("error", err.Error()), slog.String("checkpoint", string(req.Note)))
		if errors.As(err, &conflict) {
			attrs = append(attrs, slog.String("latest", string(conflict.Latest)))
		}
		w.logger.WarnContext(ctx, "refused inconsistent checkpoint", attrs...)
	case reason(err) == "internal":
		w.logger.ErrorContext(ctx, "add-checkpoint failed", append(attrs, slog.String("error", err.Error()))...)
	default:
		w.logger.InfoContext(ctx, "refused checkpoint", append(attrs, slog.String("reason", reason(err)), slog.String("error", err.Error()))...)
	}
}
