package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// command is one of tab's commands, or a group of subcommands (subs).
type command struct {
	name     string
	synopsis []string // what follows "tab " in a usage line
	run      func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	subs     []*command
}

// commandTable returns tab's commands; Run dispatches on it and the usage
// text is made from it.
func commandTable() []*command {
	return []*command{
		{name: "keygen", synopsis: []string{"keygen --out FILE [--type ed25519|p256]"}, run: noCtx(runKeygen)},
		{name: "key", subs: []*command{
			{name: "show", synopsis: []string{"key show FILE"}, run: noCtx(runKeyShow)},
		}},
		{name: "doc", subs: []*command{
			{name: "commit", synopsis: []string{"doc commit --kind KIND [--out OPENING] FILE"}, run: noCtx(runDocCommit)},
		}},
		{name: "entry", subs: []*command{
			{name: "new", synopsis: []string{"entry new --log LOG --type TYPE --object ID [--prev HEX] [--fields JSON|@FILE] [--doc KIND:HEX]...",
				"          [--server URL] --out FILE"}, run: runEntryNew},
			{name: "sign", synopsis: []string{"entry sign --key FILE ENTRYFILE"}, run: noCtx(runEntrySign)},
		}},
		{name: "submit", synopsis: []string{"submit --server URL --log LOG [--wait] ENTRYFILE"}, run: runSubmit},
		{name: "object", synopsis: []string{"object --server URL --log LOG ID"}, run: runObject},
		{name: "cert", synopsis: []string{"cert --server URL --log LOG [--open FILE]... --out FILE INDEX"}, run: runCert},
		{name: "verify", synopsis: []string{"verify --policy POLICY [--max-age D] CERT|RECEIPT"},
			run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runVerify(ctx, args, stdout, stderr, time.Now())
			}},
		{name: "qr", synopsis: []string{"qr --out FILE.png [--server URL --log LOG] CERT|RECEIPT"}, run: runQR},
		{name: "bench", synopsis: []string{
			"bench --server URL --mix vaccination|land|mixed --duration D|--count N [--rate R] [--clients C]",
			"      [--wait-published] [--read-load R] [--root-key [LOG=]FILE]... [--data DIR] [--server-pid PID]",
			"bench --raw-add URL --duration D|--count N [--rate R] [--clients C] [--raw-size BYTES]"}, run: runBench},
		{name: "audit", synopsis: []string{
			"audit --log URL/logs/NAME | --server URL --log LOG  --policy FILE | --log-key VKEY | --data DIR",
			"      [--root KEY]... [--kind K] [--recovery-wait D] [--state DIR] [--compare-state]"}, run: runAudit},
		{name: "watch", synopsis: []string{
			"watch --log URL/logs/NAME | --server URL --log LOG  --policy FILE | --log-key VKEY | --data DIR",
			"      --object ID... | --key KEY... [--from N] [--interval D] [--once] [--state DIR]"}, run: runWatch},
	}
}

func noCtx(f func(args []string, stdout, stderr io.Writer) error) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(_ context.Context, args []string, stdout, stderr io.Writer) error { return f(args, stdout, stderr) }
}

// Run runs the command line args (without the program name). Help asked for
// with help, -h or --help, at any level, is printed and is not an error.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatch(ctx, "", commandTable(), args, stdout, stderr)
}

// dispatch runs the command of cmds that args name; group is the path of
// the group cmds belong to ("" for the top, "entry " for tab entry).
func dispatch(ctx context.Context, group string, cmds []*command, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageOf(cmds))
		return fmt.Errorf("tab %sneeds a command: %s", group, namesOf(cmds))
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageOf(cmds))
		return nil
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		if c.subs != nil {
			return dispatch(ctx, group+c.name+" ", c.subs, args[1:], stdout, stderr)
		}
		if err := c.run(ctx, args[1:], stdout, stderr); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil // the flag set printed its help, as asked
	}
	fmt.Fprint(stderr, usageOf(cmds))
	return fmt.Errorf("tab %shas no command %q; it has %s", group, args[0], namesOf(cmds))
}

// usageOf returns the usage lines of cmds and of their subcommands.
func usageOf(cmds []*command) string {
	var b strings.Builder
	b.WriteString("usage:\n")
	var walk func([]*command)
	walk = func(cs []*command) {
		for _, c := range cs {
			for _, l := range c.synopsis {
				fmt.Fprintf(&b, "  tab %s\n", l)
			}
			walk(c.subs)
		}
	}
	walk(cmds)
	b.WriteString("\ntab COMMAND --help describes a command's flags.\n")
	return b.String()
}

func namesOf(cmds []*command) string {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// synopsisOf returns the usage lines of the command at path ("entry new").
func synopsisOf(path string) []string {
	cmds := commandTable()
	var found *command
	for _, name := range strings.Fields(path) {
		found = nil
		for _, c := range cmds {
			if c.name == name {
				found, cmds = c, c.subs
				break
			}
		}
		if found == nil {
			return nil
		}
	}
	if found == nil {
		return nil
	}
	return found.synopsis
}

// newFlagSet returns the flag set of the command at path, whose errors and
// help go to stderr; its help starts with the command's usage lines.
func newFlagSet(path string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage:")
		for _, l := range synopsisOf(path) {
			fmt.Fprintf(stderr, "  tab %s\n", l)
		}
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}
