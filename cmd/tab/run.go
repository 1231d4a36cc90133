package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

const usage = `usage:
  tab keygen --out FILE [--type ed25519|p256]
  tab entry new --log ORIGIN --type TYPE --object ID [--prev HEX] [--fields JSON|@FILE] [--doc KIND:HEX]... --out FILE
  tab entry sign --key FILE ENTRYFILE
  tab submit --server URL --log NAME [--wait] ENTRYFILE
  tab object --server URL --log NAME ID
  tab cert --server URL --log NAME [--open FILE]... --out FILE INDEX
  tab verify --policy POLICY [--max-age D] CERT|RECEIPT
  tab qr --out FILE.png [--server URL --log NAME] CERT|RECEIPT
  tab bench --server URL --mix vaccination|land|mixed --duration D|--count N [--rate R] [--clients C]
            [--wait-published] [--read-load R] [--root-key [LOG=]FILE]... [--data DIR] [--server-pid PID]
  tab bench --raw-add URL --duration D|--count N [--rate R] [--clients C] [--raw-size BYTES]
  tab audit --log URL/logs/NAME | --server URL --log NAME  --policy FILE | --log-key VKEY | --data DIR
            [--root KEY]... [--kind K] [--recovery-wait D] [--state DIR] [--compare-state]
  tab watch --log URL/logs/NAME | --server URL --log NAME  --policy FILE | --log-key VKEY | --data DIR
            --object ID... | --key KEY... [--from N] [--interval D] [--once] [--state DIR]`

// Run runs the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "entry":
		if len(args) < 2 {
			return errors.New("entry needs a subcommand: new or sign")
		}
		switch args[1] {
		case "new":
			return runEntryNew(args[2:], stdout, stderr)
		case "sign":
			return runEntrySign(args[2:], stdout, stderr)
		}
		return fmt.Errorf("unknown entry subcommand %q", args[1])
	case "submit":
		return runSubmit(ctx, args[1:], stdout, stderr)
	case "object":
		return runObject(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "cert":
		return runCert(ctx, args[1:], stdout, stderr)
	case "verify":
		return runVerify(ctx, args[1:], stdout, stderr, time.Now())
	case "qr":
		return runQR(args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "watch":
		return runWatch(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
