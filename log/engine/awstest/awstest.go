// Package awstest gives tests the servers of the scale-out tier: a fresh
// database on a MySQL-compatible server and a fresh prefix in an
// S3-compatible bucket. A test that needs one is skipped when it is
// unreachable, unless CI=true: there it must be there, and the test fails.
//
// The servers are named by environment variables, which .ci/run sets:
//
//	TABULARIUM_MYSQL_DSN      a DSN whose user may create databases
//	                          (default root@tcp(127.0.0.1:3306)/test)
//	TABULARIUM_S3_ENDPOINT    e.g. http://127.0.0.1:9000 (no default)
//	TABULARIUM_S3_BUCKET      an existing bucket (default tabularium-test)
//	TABULARIUM_S3_REGION      default us-east-1
//	TABULARIUM_S3_ACCESS_KEY, TABULARIUM_S3_SECRET_KEY
//
// The S3 server is addressed path-style, as MinIO and Ceph RGW expect.
package awstest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/go-sql-driver/mysql"
)

// DefaultMySQLDSN is the server tried when TABULARIUM_MYSQL_DSN is unset.
const DefaultMySQLDSN = "root@tcp(127.0.0.1:3306)/test"

var seq atomic.Int64

// unavailable skips the test, or fails it in CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("in CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// uniqueName returns a name no other test of any process uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
}

// MySQLDSN creates an empty database for the test on the server of
// TABULARIUM_MYSQL_DSN, drops it when the test ends, and returns its DSN.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("TABULARIUM_MYSQL_DSN")
	if dsn == "" {
		dsn = DefaultMySQLDSN
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("TABULARIUM_MYSQL_DSN: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		unavailable(t, "MySQL unreachable at %s (set TABULARIUM_MYSQL_DSN): %v", cfg.Addr, err)
	}
	name := uniqueName("tabtest")
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db.Exec("DROP DATABASE IF EXISTS " + name)
		db.Close()
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// S3 is an S3-compatible server and a prefix of its bucket for one test.
type S3 struct {
	Endpoint, Region, Bucket, Prefix string
	AccessKey, SecretKey             string
	Client                           *s3.Client
}

// NewS3 returns the S3 server of the environment and a fresh prefix in its
// bucket, after checking that the bucket can be reached.
func NewS3(t testing.TB) *S3 {
	t.Helper()
	s := &S3{
		Endpoint:  os.Getenv("TABULARIUM_S3_ENDPOINT"),
		Region:    env("TABULARIUM_S3_REGION", "us-east-1"),
		Bucket:    env("TABULARIUM_S3_BUCKET", "tabularium-test"),
		AccessKey: os.Getenv("TABULARIUM_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("TABULARIUM_S3_SECRET_KEY"),
		Prefix:    strings.ReplaceAll(uniqueName("t"), "_", "-"),
	}
	if s.Endpoint == "" {
		unavailable(t, "no S3-compatible server (set TABULARIUM_S3_ENDPOINT and its keys)")
	}
	s.Client = s3.New(s3.Options{
		Region:                     s.Region,
		BaseEndpoint:               aws.String(s.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		unavailable(t, "S3 bucket %s unreachable at %s: %v", s.Bucket, s.Endpoint, err)
	}
	return s
}

// Get reads the object at key, under the test's prefix, straight from the
// bucket, and returns its body and Cache-Control.
func (s *S3) Get(ctx context.Context, key string) ([]byte, string, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.Prefix + "/" + key)})
	if err != nil {
		return nil, "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 64<<20))
	return b, aws.ToString(out.CacheControl), err
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
