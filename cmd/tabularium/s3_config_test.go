package main

import (
	"strings"
	"testing"
)

// TestS3ConfigRefusesUnsafeOrIncomplete: the s3 storage kind needs its bucket,
// database, a shared key and roots; POSIX fields and s3 fields do not mix.
func TestS3ConfigRefusesUnsafeOrIncomplete(t *testing.T) {
	const good = `
logs:
  - name: land
    registry: land
    key_file: land.key
    roots: ["ed25519:AAAA"]
    storage: {kind: s3, endpoint: "http://127.0.0.1:9000", bucket: b, path_style: true, credentials_file: c, mysql_dsn_file: d}
`
	c, err := ParseConfig([]byte(good), "/base")
	if err != nil {
		t.Fatalf("valid s3 config: %v", err)
	}
	if st := c.Logs[0].Storage; st.Region != "us-east-1" || st.Dir != "" || st.MySQLDSNFile != "tabularium-data/d" {
		t.Fatalf("storage after defaults: %+v", st)
	}
	for name, edit := range map[string][2]string{
		"no bucket":         {"bucket: b, ", ""},
		"no dsn file":       {", mysql_dsn_file: d", ""},
		"generated key":     {"    key_file: land.key\n", ""},
		"no roots":          {`    roots: ["ed25519:AAAA"]` + "\n", ""},
		"dir":               {"kind: s3,", "kind: s3, dir: x,"},
		"bad endpoint":      {"http://127.0.0.1:9000", "ftp://x"},
		"endpoint password": {"http://127.0.0.1:9000", "http://u:p@x"},
		"posix with bucket": {"kind: s3", "kind: posix"},
		"unknown kind":      {"kind: s3", "kind: gcs"},
		"fast checkpoints":  {"    storage:", "    checkpoint_interval: 500ms\n    storage:"},
		"absolute prefix":   {"bucket: b,", "bucket: b, prefix: /x,"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(good, edit[0], edit[1], 1)
			if bad == good {
				t.Fatal("edit did not apply")
			}
			if _, err := ParseConfig([]byte(bad), "/base"); err == nil {
				t.Fatalf("accepted:\n%s", bad)
			}
		})
	}
}
