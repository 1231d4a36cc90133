package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/go-sql-driver/mysql"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	tesseraaws "github.com/transparency-dev/tessera/storage/aws"
	awsas "github.com/transparency-dev/tessera/storage/aws/antispam"
	"golang.org/x/mod/sumdb/note"
)

// AWSConfig opens a log on tessera's AWS driver: tiles, entry bundles and the
// checkpoint are objects in an S3-compatible bucket, laid out as
// c2sp.org/tlog-tiles paths under Prefix, and a MySQL-compatible database
// sequences the entries and coordinates the front ends that share the log.
//
// One code path serves AWS S3 with Aurora, and on premises MinIO or Ceph RGW
// with MariaDB or MySQL.
type AWSConfig struct {
	// Endpoint is the S3 endpoint URL ("http://127.0.0.1:9000"); empty means
	// AWS's own endpoint for Region.
	Endpoint string
	// Region is the bucket's region; S3-compatible stores accept any, usually
	// "us-east-1".
	Region string
	Bucket string
	// Prefix, if set, is prepended to every object key ("land" puts the
	// checkpoint at land/checkpoint), so that several logs share a bucket.
	Prefix string
	// PathStyle addresses objects as endpoint/bucket/key rather than
	// bucket.endpoint/key: MinIO and Ceph RGW usually need it.
	PathStyle bool
	// Credentials, if not nil, are the S3 access keys; nil means the standard
	// AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, shared files,
	// instance roles).
	Credentials *AWSCredentials
	// DSN is the go-sql-driver/mysql DSN of the log's database
	// (user:password@tcp(host:3306)/db). tessera's tables have fixed names, so
	// each log needs a database of its own.
	DSN string

	Signer  note.Signer
	VKey    string // the verifier key of Signer
	Options Options
	Logger  *slog.Logger
	// HTTPClient is used to reach witnesses; nil means a client with a timeout.
	HTTPClient *http.Client
}

// AWSCredentials are static S3 access keys.
type AWSCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // optional
}

// Database connection pool bounds of tessera's sequencer and of the antispam
// index. tessera cannot close these pools, so they are kept small.
const (
	awsMaxOpenConns = 16
	awsMaxIdleConns = 4
)

// OpenAWS opens (creating if needed) a log in cfg.Bucket, sequenced by the
// database at cfg.DSN. Several processes may open the same log: tessera
// coordinates sequencing, integration and checkpoint publication through the
// database. It refuses a VKey that is not Signer's, and a bucket whose
// published checkpoint is not signed by Signer for its origin.
//
// Antispam uses tessera's MySQL-backed index in the same database (tables
// AntispamIDSeq, AntispamFollowCoord, AntispamMeta), shared by every front end.
//
// tessera's database pools cannot be closed through its API: Close stops the
// log but leaves up to a few idle connections open until the process exits.
func OpenAWS(ctx context.Context, cfg AWSConfig) (*Log, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Bucket == "" {
		return nil, errors.New("open AWS storage: no bucket")
	}
	if cfg.Options.CheckpointInterval != 0 && cfg.Options.CheckpointInterval < time.Second {
		return nil, fmt.Errorf("open AWS storage: checkpoint interval %s is under tessera's AWS minimum of 1s", cfg.Options.CheckpointInterval)
	}
	if _, err := mysql.ParseDSN(cfg.DSN); err != nil {
		return nil, fmt.Errorf("open AWS storage: bad MySQL DSN: %w", err)
	}
	sdk, err := awsSDKConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s3opts := s3Options(cfg)
	client := s3.NewFromConfig(sdk, s3opts)
	if err := checkAWSIdentity(ctx, client, cfg); err != nil {
		return nil, err
	}
	driver, err := tesseraaws.New(ctx, tesseraaws.Config{
		SDKConfig:    &sdk,
		S3Options:    s3opts,
		Bucket:       cfg.Bucket,
		BucketPrefix: cfg.Prefix,
		DSN:          cfg.DSN,
		MaxOpenConns: awsMaxOpenConns,
		MaxIdleConns: awsMaxIdleConns,
		HTTPClient:   cfg.HTTPClient,
	})
	if err != nil {
		return nil, fmt.Errorf("open AWS storage in %s: %w", cfg.Bucket, err)
	}
	var as tessera.Antispam
	if !cfg.Options.NoAntispam {
		as, err = awsas.NewAntispam(ctx, cfg.DSN, awsas.AntispamOpts{
			PushbackThreshold: antispamPushbackThreshold,
			MaxOpenConns:      awsMaxOpenConns,
			MaxIdleConns:      awsMaxIdleConns,
		})
		if err != nil {
			return nil, fmt.Errorf("open antispam index: %w", err)
		}
	}
	l, err := open(ctx, driver, as, cfg.Signer, cfg.VKey, cfg.Options, cfg.Logger)
	if err != nil {
		return nil, err
	}
	l.reader = s3Reader{LogReader: l.reader, client: client, bucket: cfg.Bucket, prefix: cfg.Prefix}
	return l, nil
}

// awsSDKConfig loads the AWS SDK configuration: static credentials if given,
// else the standard chain.
func awsSDKConfig(ctx context.Context, cfg AWSConfig) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}
	if c := cfg.Credentials; c != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	sdk, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return sdk, nil
}

// s3Options points the S3 client at a custom endpoint. S3-compatible stores
// may not know the CRC checksums the SDK adds by default, so with a custom
// endpoint they are sent and checked only where the API requires them.
func s3Options(cfg AWSConfig) func(*s3.Options) {
	return func(o *s3.Options) {
		o.UsePathStyle = cfg.PathStyle
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	}
}

// checkAWSIdentity is checkIdentity for a bucket.
func checkAWSIdentity(ctx context.Context, client *s3.Client, cfg AWSConfig) error {
	key := path.Join(cfg.Prefix, layout.CheckpointPath)
	where := fmt.Sprintf("s3://%s/%s", cfg.Bucket, key)
	var cp []byte
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(key)})
	switch {
	case isNoSuchKey(err):
	case err != nil:
		return fmt.Errorf("read the published checkpoint %s: %w", where, err)
	default:
		defer out.Body.Close()
		if cp, err = io.ReadAll(io.LimitReader(out.Body, 1<<20)); err != nil {
			return fmt.Errorf("read the published checkpoint %s: %w", where, err)
		}
	}
	return checkIdentity(cfg.Signer, cfg.VKey, cp, where)
}

func isNoSuchKey(err error) bool {
	var nsk *s3types.NoSuchKey
	return errors.As(err, &nsk)
}

// s3Reader reads the log's published objects straight from the bucket, with
// the S3 client OpenAWS configured: tessera's AWS reader reports only a missing
// checkpoint as os.ErrNotExist, so its fallback from a partial tile (deleted
// once the tile is full) to the full one never fires. Sizes come from tessera.
type s3Reader struct {
	tessera.LogReader
	client         *s3.Client
	bucket, prefix string
}

// maxObject bounds one object read: a full entry bundle of maximal entries.
const maxObject = layout.EntryBundleWidth * (MaxEntrySize + 2)

func (r s3Reader) get(ctx context.Context, p string) ([]byte, error) {
	key := path.Join(r.prefix, p)
	out, err := r.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key)})
	if isNoSuchKey(err) {
		return nil, fmt.Errorf("s3://%s/%s: %w", r.bucket, key, os.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", r.bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxObject+1))
	if err == nil && len(b) > maxObject {
		err = fmt.Errorf("over %d bytes", maxObject)
	}
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", r.bucket, key, err)
	}
	return b, nil
}

// partialOrFull reads a partial resource, or the full one it grew into.
func (r s3Reader) partialOrFull(ctx context.Context, p uint8, at func(uint8) string) ([]byte, error) {
	b, err := r.get(ctx, at(p))
	if p > 0 && errors.Is(err, os.ErrNotExist) {
		return r.get(ctx, at(0))
	}
	return b, err
}

func (r s3Reader) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return r.get(ctx, layout.CheckpointPath)
}

func (r s3Reader) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	return r.partialOrFull(ctx, p, func(p uint8) string { return layout.TilePath(level, index, p) })
}

func (r s3Reader) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	return r.partialOrFull(ctx, p, func(p uint8) string { return layout.EntriesPath(index, p) })
}

// NextIndex returns the index the next entry sequenced will take: the log's
// size including entries sequenced but not yet integrated. On a log shared by
// several front ends it is what they coordinate on.
func (l *Log) NextIndex(ctx context.Context) (uint64, error) {
	n, err := l.reader.NextIndex(ctx)
	if err != nil {
		return 0, fmt.Errorf("next index of %s: %w", l.origin, err)
	}
	return n, nil
}
