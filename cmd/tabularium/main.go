// Command tabularium is the operator's server: it hosts several registry logs on
// tessera and serves them over c2sp.org/tlog-tiles. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "tabularium:", err)
		os.Exit(1)
	}
}

const usage = `usage: tabularium <command> [flags]

commands:
  dev      run the demo stack: three logs, three witnesses, a seeded registry, sample certificates
  serve    run the log server (no flags needed: data in ./tabularium-data, listening on 127.0.0.1:8080)
  keygen   make a checkpoint signing key for production use
`

// Run runs one tabularium command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
