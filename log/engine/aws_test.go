package engine

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine/awstest"
	"github.com/tabularium/tabularium/log/keyfile"
)

// awsTestConfig returns the configuration of a fresh log on the test's S3
// server (its own prefix) and database.
func awsTestConfig(t *testing.T, skey string) AWSConfig {
	t.Helper()
	s := awstest.NewS3(t)
	dsn := awstest.MySQLDSN(t)
	signer, err := log.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := log.VerifierKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return AWSConfig{
		Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket, Prefix: s.Prefix, PathStyle: true,
		Credentials: &AWSCredentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey},
		DSN:         dsn, Signer: signer, VKey: vkey,
		Options: Options{BatchMaxAge: 10 * time.Millisecond, CheckpointInterval: time.Second, AwaitPoll: 50 * time.Millisecond},
		Logger:  slog.New(slog.DiscardHandler),
	}
}

func openAWSLog(t *testing.T, cfg AWSConfig) *Log {
	t.Helper()
	l, err := OpenAWS(context.Background(), cfg)
	if err != nil {
		t.Fatalf("OpenAWS: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// TestAWSAppendsAndServes: on MinIO and MariaDB, entries get consecutive
// indices, are published under a checkpoint of the log's key, read back in
// order, and the objects in the bucket carry tessera's Cache-Control.
func TestAWSAppendsAndServes(t *testing.T) {
	skey, _ := testKey(t, "example.org/aws")
	cfg := awsTestConfig(t, skey)
	l := openAWSLog(t, cfg)
	ctx := t.Context()
	const n = 300
	entries := make([][]byte, n)
	for i := range entries {
		entries[i] = entryData("aws", i)
	}
	idx := addAll(t, l, entries)
	var max uint64
	for _, i := range idx {
		max = maxU(max, i)
	}
	if max != n-1 {
		t.Fatalf("largest index %d, want %d", max, n-1)
	}
	cp, err := l.AwaitPublished(ctx, max)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := log.NewVerifier(cfg.VKey)
	if c, _, err := log.OpenCheckpoint(cp, cfg.Signer.Name(), v); err != nil || c.Size < n {
		t.Fatalf("checkpoint %+v, %v", c, err)
	}
	if next, err := l.NextIndex(ctx); err != nil || next != n {
		t.Fatalf("NextIndex = %d, %v; want %d", next, err, n)
	}
	got := 0
	err = l.ReadEntries(ctx, 0, n, func(i uint64, data []byte) error {
		if string(data) != string(entries[idx2pos(idx, i)]) {
			t.Errorf("entry %d is %q", i, data)
		}
		got++
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("read %d entries: %v", got, err)
	}
	if _, err := l.Reader().ReadTile(ctx, 5, 0, 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing tile: %v, want os.ErrNotExist", err)
	}
	s := awstest.NewS3(t)
	s.Prefix = cfg.Prefix
	if _, cc, err := s.Get(ctx, "checkpoint"); err != nil || cc != "no-cache" {
		t.Errorf("checkpoint object: Cache-Control %q, %v", cc, err)
	}
	if _, cc, err := s.Get(ctx, "tile/0/000"); err != nil || !strings.Contains(cc, "immutable") {
		t.Errorf("tile object: Cache-Control %q, %v", cc, err)
	}
}

func maxU(a, b uint64) uint64 { return max(a, b) }

// idx2pos finds which entry took index i.
func idx2pos(idx []uint64, i uint64) int {
	for p, x := range idx {
		if x == i {
			return p
		}
	}
	return -1
}

// TestAWSRefusesAnotherLogsBucket: a bucket prefix holding a checkpoint of
// another key is refused at open, as a POSIX folder is.
func TestAWSRefusesAnotherLogsBucket(t *testing.T) {
	skey, _ := testKey(t, "example.org/aws")
	cfg := awsTestConfig(t, skey)
	l := openAWSLog(t, cfg)
	i, err := l.Add(t.Context(), []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AwaitPublished(t.Context(), i.Index); err != nil {
		t.Fatal(err)
	}
	other, _ := testKey(t, "example.org/aws")
	cfg2 := cfg
	cfg2.Signer, _ = log.NewSigner(other)
	cfg2.VKey, _ = log.VerifierKey(other)
	if _, err := OpenAWS(context.Background(), cfg2); !errors.Is(err, ErrIdentity) {
		t.Fatalf("OpenAWS with another key: %v, want ErrIdentity", err)
	}
}

func TestReadAWSCredentials(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"profile", "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n", true},
		{"bare", "# minio\naws_access_key_id=AK\naws_secret_access_key=SK\naws_session_token=T\n", true},
		{"no secret", "aws_access_key_id = AK\n", false},
		{"unknown key", "aws_access_key_id = AK\naws_secret_access_key = SK\nregion = x\n", false},
		{"second profile", "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n[other]\n", false},
		{"twice", "aws_access_key_id = AK\naws_access_key_id = AK2\naws_secret_access_key = SK\n", false},
		{"late default", "aws_access_key_id = AK\n[default]\naws_secret_access_key = SK\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := ReadAWSCredentials(path)
			if (err == nil) != tc.ok {
				t.Fatalf("ReadAWSCredentials: %+v, %v", c, err)
			}
			if err != nil && strings.Contains(err.Error(), "SK") {
				t.Fatalf("the error echoes a secret: %v", err)
			}
			if tc.ok && (c.AccessKeyID != "AK" || c.SecretAccessKey != "SK") {
				t.Fatalf("credentials %+v", c)
			}
		})
	}
	unsafe := filepath.Join(dir, "unsafe")
	os.WriteFile(unsafe, []byte("aws_access_key_id = AK\naws_secret_access_key = SK\n"), 0o644)
	if _, err := ReadAWSCredentials(unsafe); !errors.Is(err, keyfile.ErrUnsafe) {
		t.Fatalf("a 0644 credentials file: %v, want keyfile.ErrUnsafe", err)
	}
}
