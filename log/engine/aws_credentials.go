package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tabularium/tabularium/log/keyfile"
)

// ReadAWSCredentials reads static S3 access keys from a file in the AWS shared
// credentials format, restricted to one profile:
//
//	[default]
//	aws_access_key_id = AKIA...
//	aws_secret_access_key = ...
//	aws_session_token = ...   (optional)
//
// The "[default]" line may be left out; blank lines and lines starting with #
// or ; are ignored. Any other line, a second profile, or a repeated key is an
// error. Like every secret file, it must not be readable by group or others
// (keyfile.ErrUnsafe).
func ReadAWSCredentials(path string) (AWSCredentials, error) {
	text, err := keyfile.Read(path)
	if err != nil {
		return AWSCredentials{}, fmt.Errorf("credentials file: %w", err)
	}
	c, err := parseAWSCredentials(text)
	if err != nil {
		return AWSCredentials{}, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return c, nil
}

func parseAWSCredentials(text string) (AWSCredentials, error) {
	var c AWSCredentials
	fields := map[string]*string{
		"aws_access_key_id":     &c.AccessKeyID,
		"aws_secret_access_key": &c.SecretAccessKey,
		"aws_session_token":     &c.SessionToken,
	}
	seen := map[string]bool{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line == "[default]" {
			if len(seen) > 0 || seen["[default]"] {
				return c, fmt.Errorf("line %d: [default] must come first, once", n+1)
			}
			seen["[default]"] = true
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		dst, known := fields[k]
		if !ok || !known || v == "" {
			// Never echo the line: it may hold a secret.
			return c, fmt.Errorf("line %d is not one of aws_access_key_id, aws_secret_access_key, aws_session_token = value", n+1)
		}
		if seen[k] {
			return c, fmt.Errorf("line %d: %s given twice", n+1, k)
		}
		seen[k] = true
		*dst = v
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return c, errors.New("aws_access_key_id and aws_secret_access_key are required")
	}
	return c, nil
}
