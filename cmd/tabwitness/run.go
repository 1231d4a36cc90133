package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// errUsage reports bad arguments; the usage has already been printed.
var errUsage = errors.New("bad usage")

const usage = `usage: tabwitness <command> [flags]

commands:
  keygen --name NAME --out FILE   make a witness signer key (mode 0600), print its cosignature key
  serve --config FILE             run the witness
`

// Run runs the tabwitness command line with args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s", args[0], usage)
	return errUsage
}

// parseFlags parses a subcommand's flags, refusing positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %q\n", fs.Args())
		return errUsage
	}
	return nil
}
