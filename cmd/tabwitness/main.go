// Command tabwitness is Tabularium's transparency-log witness: it cosigns the
// checkpoints of the logs it is configured for, per c2sp.org/tlog-witness, and
// can pull checkpoints from logs that serve c2sp.org/tlog-tiles. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tabwitness:", err)
		os.Exit(1)
	}
}
