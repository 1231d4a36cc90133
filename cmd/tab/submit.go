package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tabularium/tabularium/personality/entry"
)

var httpClient = &http.Client{Timeout: 2 * time.Minute}

func runSubmit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("submit", stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "server base URL")
	logArg := fs.String("log", "", "the log's name (land) or origin (tabularium.local/land)")
	wait := fs.Bool("wait", false, "wait until a published checkpoint covers the entry")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *logArg == "" || fs.NArg() != 1 {
		return errors.New("submit needs --log LOG and one ENTRYFILE")
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	if !entry.IsSigned(b) {
		if _, err := entry.DecodePayload(b); err == nil {
			return fmt.Errorf("%s is an entry with no signatures: have every party sign it with tab entry sign --key FILE %s, then submit it", fs.Arg(0), fs.Arg(0))
		}
	}
	logName, err := logNameOn(ctx, httpClient, *server, *logArg)
	if err != nil {
		return err
	}
	u := strings.TrimRight(*server, "/") + "/logs/" + url.PathEscape(logName) + "/entries"
	if *wait {
		u += "?wait=published"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/cose")
	return do(req, stdout)
}

func runObject(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("object", stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "server base URL")
	logArg := fs.String("log", "", "the log's name (land) or origin (tabularium.local/land)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *logArg == "" || fs.NArg() != 1 {
		return errors.New("object needs --log LOG and one object ID")
	}
	logName, err := logNameOn(ctx, httpClient, *server, *logArg)
	if err != nil {
		return err
	}
	u := strings.TrimRight(*server, "/") + "/logs/" + url.PathEscape(logName) + "/objects/" + fs.Arg(0)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return do(req, stdout)
}

// do sends req and copies a 200 answer to stdout; any other answer is an error
// carrying the server's JSON refusal.
func do(req *http.Request, stdout io.Writer) error {
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	_, err = stdout.Write(body)
	return err
}
