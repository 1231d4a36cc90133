package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// A --log flag names a log by its name on the server (land) or by its origin
// (tabularium.local/land), wherever a log is named. A name has the form the
// server's configuration gives names; anything else is an origin, found in
// the server's GET /logs. Where a command needs the other form it looks it up
// there too. The server's list is not trusted for anything a signature must
// prove: it only says which log the user meant.

// logNameForm is the form of a log's name in the server's configuration.
var logNameForm = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// isLogName says whether s has the form of a log's name rather than an origin.
func isLogName(s string) bool { return logNameForm.MatchString(s) }

// listLogs returns the server's GET /logs.
func listLogs(ctx context.Context, hc *http.Client, server string) ([]logInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/logs", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list the server's logs: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list the server's logs: GET %s/logs: %s", strings.TrimRight(server, "/"), resp.Status)
	}
	var infos []logInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&infos); err != nil {
		return nil, fmt.Errorf("list the server's logs: %w", err)
	}
	return infos, nil
}

// findLog returns the log of infos named arg, or else the one whose origin is
// arg.
func findLog(infos []logInfo, arg string) (logInfo, bool) {
	for _, in := range infos {
		if in.Name == arg {
			return in, true
		}
	}
	for _, in := range infos {
		if in.Origin == arg {
			return in, true
		}
	}
	return logInfo{}, false
}

// lookupLog finds the log that arg (a name or an origin) names on server.
func lookupLog(ctx context.Context, hc *http.Client, server, arg string) (logInfo, error) {
	infos, err := listLogs(ctx, hc, server)
	if err != nil {
		return logInfo{}, err
	}
	if in, ok := findLog(infos, arg); ok {
		return in, nil
	}
	known := make([]string, len(infos))
	for i, in := range infos {
		known[i] = in.Name + " (" + in.Origin + ")"
	}
	return logInfo{}, fmt.Errorf("the server at %s has no log named %q nor of that origin; it has %s", server, arg, strings.Join(known, ", "))
}

// logNameOn returns the name on server of the log that --log arg names: arg
// itself if it has a name's form, else the name of the log whose origin it is.
func logNameOn(ctx context.Context, hc *http.Client, server, arg string) (string, error) {
	if isLogName(arg) {
		return arg, nil
	}
	in, err := lookupLog(ctx, hc, server, arg)
	if err != nil {
		return "", fmt.Errorf("--log %s: %w", arg, err)
	}
	return in.Name, nil
}
