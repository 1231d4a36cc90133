package tree_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine/awstest"
	"github.com/tabularium/tabularium/statemap"
	"github.com/tabularium/tabularium/statemap/tree"
)

// The benchmarks run on a map of STATEMAP_BENCH_OBJECTS objects (default
// 100000), built once in STATEMAP_BENCH_DIR (default a folder under the
// system's temporary folder) and reused by later runs. See BENCHMARKS.md.

func benchObjects(b *testing.B) int {
	if s := os.Getenv("STATEMAP_BENCH_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("STATEMAP_BENCH_OBJECTS=%q: want a number of at least 1000", s)
		}
		return n
	}
	return 100_000
}

func benchKey(i int) statemap.Key {
	return sha256.Sum256(binary.BigEndian.AppendUint64([]byte("bench object "), uint64(i)))
}

func benchLeaf(i, version int) tree.Leaf {
	k := benchKey(i)
	return tree.Leaf{Key: k, Hash: statemap.LeafHash(k, binary.BigEndian.AppendUint64([]byte("record "), uint64(version)))}
}

const buildBatch = 10_000

// benchMap returns the path of the SQLite map of n objects, building it if
// needed, and the time the build took (0 if it was there).
func benchMap(b *testing.B, n int) (string, time.Duration) {
	dir := os.Getenv("STATEMAP_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "tabularium-statemap-bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("map-%d.db", n))
	ctx := context.Background()
	db := openSQLite(b, path)
	defer db.Close()
	tr, err := tree.Open(ctx, db, tree.Config{Dialect: tree.SQLite, Prefix: "m_"})
	if err != nil {
		b.Fatal(err)
	}
	latest, err := tr.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if _, objects, _ := tr.Version(ctx, latest); objects >= uint64(n) {
		// Keep only the latest version, as a server that prunes does.
		if oldest, _ := tr.Oldest(ctx); oldest < latest {
			if err := tr.Prune(ctx, latest); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				b.Fatal(err)
			}
		}
		return path, 0
	}
	start := time.Now()
	for v := int(latest) + 1; (v-1)*buildBatch < n; v++ {
		batch := make([]tree.Leaf, 0, buildBatch)
		for i := (v - 1) * buildBatch; i < min(v*buildBatch, n); i++ {
			batch = append(batch, benchLeaf(i, 0))
		}
		if _, err := tr.Update(ctx, uint64(v), batch); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	if err := tr.Prune(ctx, uint64((n+buildBatch-1)/buildBatch)); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	return path, took
}

// cpuTime is the CPU time (user and system) the process has used, which the
// other loads of a shared machine do not inflate as they do wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func copyFile(b *testing.B, from, to string) {
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}

func openBench(b *testing.B, path string) (*sql.DB, *tree.Tree, uint64) {
	ctx := context.Background()
	db := openSQLite(b, path)
	tr, err := tree.Open(ctx, db, tree.Config{Dialect: tree.SQLite, Prefix: "m_"})
	if err != nil {
		b.Fatal(err)
	}
	latest, err := tr.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return db, tr, latest
}

// BenchmarkBuild reports the build of the map (when it was not there yet) and
// its size on disk per object, pruned to its latest version.
func BenchmarkBuild(b *testing.B) {
	n := benchObjects(b)
	path, took := benchMap(b, n)
	for range b.N {
	}
	if took > 0 {
		b.ReportMetric(float64(n)/took.Seconds(), "built-leaves/s")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/float64(n), "bytes/object")
	db := openSQLite(b, path)
	var rows int64
	db.QueryRow(`SELECT COUNT(*) FROM m_nodes`).Scan(&rows)
	b.ReportMetric(float64(rows)/float64(n), "rows/object")
}

// BenchmarkUpdate writes batches into a copy of the map: new keys, and new
// hashes for present keys.
func BenchmarkUpdate(b *testing.B) {
	n := benchObjects(b)
	path, _ := benchMap(b, n)
	for _, size := range []int{100, 1000} {
		for _, kind := range []string{"new", "present"} {
			b.Run(fmt.Sprintf("batch=%d/%s", size, kind), func(b *testing.B) {
				work := filepath.Join(b.TempDir(), "map.db")
				copyFile(b, path, work)
				_, tr, latest := openBench(b, work)
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(1, uint64(size)))
				next := n
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := range b.N {
					batch := make([]tree.Leaf, 0, size)
					seen := map[int]bool{}
					for len(batch) < size {
						j := next
						if kind == "present" {
							j = rng.IntN(n)
							if seen[j] {
								continue
							}
							seen[j] = true
						} else {
							next++
						}
						batch = append(batch, benchLeaf(j, i+1))
					}
					latest++
					if _, err := tr.Update(ctx, latest, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "leaves/s")
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*size)/1e3, "cpu-µs/leaf")
			})
		}
	}
}

// BenchmarkProve proves random present keys from as many goroutines as
// GOMAXPROCS, and reports the proofs' mean size.
func BenchmarkProve(b *testing.B) {
	n := benchObjects(b)
	path, _ := benchMap(b, n)
	_, tr, latest := openBench(b, path)
	ctx := context.Background()
	root, _, _ := tr.Version(ctx, latest)
	var size int
	for i := range 1000 {
		p, err := tr.Prove(ctx, latest, benchKey(i*(n/1000)))
		if err != nil {
			b.Fatal(err)
		}
		size += len(p.Marshal())
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			k := benchKey(rng.IntN(n))
			p, err := tr.Prove(ctx, latest, k)
			if err != nil {
				b.Error(err)
				return
			}
			if rng.IntN(100) == 0 { // check some, off the clock's main path
				if p.Root(k, []byte("x")) == root {
					b.Error("a proof verified for a wrong record")
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "proofs/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/proof")
	b.ReportMetric(float64(size)/1000, "proof-bytes")
}

// BenchmarkVerify checks a proof of presence in the map.
func BenchmarkVerify(b *testing.B) {
	n := benchObjects(b)
	path, _ := benchMap(b, n)
	_, tr, latest := openBench(b, path)
	ctx := context.Background()
	root, _, _ := tr.Version(ctx, latest)
	k := benchKey(n / 2)
	rec := binary.BigEndian.AppendUint64([]byte("record "), 0)
	p, err := tr.Prove(ctx, latest, k)
	if err != nil {
		b.Fatal(err)
	}
	enc := p.Marshal()
	b.ResetTimer()
	for range b.N {
		q, err := statemap.ParseProof(enc)
		if err != nil {
			b.Fatal(err)
		}
		if err := q.Verify(root, k, rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens the map afresh, as a restarting server does.
func BenchmarkOpen(b *testing.B) {
	n := benchObjects(b)
	path, _ := benchMap(b, n)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		db := openSQLite(b, path)
		if _, err := tree.Open(ctx, db, tree.Config{Dialect: tree.SQLite, Prefix: "m_"}); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

// BenchmarkMySQL builds a map of STATEMAP_BENCH_MYSQL_OBJECTS objects
// (default 100000) on the MySQL-compatible server of the tests and reports
// its update rate, proof rate and size.
func BenchmarkMySQL(b *testing.B) {
	n := 100_000
	if s := os.Getenv("STATEMAP_BENCH_MYSQL_OBJECTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	dsn := awstest.MySQLDSN(b)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	tr, err := tree.Open(ctx, db, tree.Config{Dialect: tree.MySQL, Prefix: "m_"})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	v := uint64(0)
	for i := 0; i < n; i += buildBatch {
		batch := make([]tree.Leaf, 0, buildBatch)
		for j := i; j < min(i+buildBatch, n); j++ {
			batch = append(batch, benchLeaf(j, 0))
		}
		v++
		if _, err := tr.Update(ctx, v, batch); err != nil {
			b.Fatal(err)
		}
	}
	built := time.Since(start)
	rng := rand.New(rand.NewPCG(2, 2))
	b.ResetTimer()
	for range b.N {
		if _, err := tr.Prove(ctx, v, benchKey(rng.IntN(n))); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "proofs/s")
	b.ReportMetric(float64(n)/built.Seconds(), "built-leaves/s")
	if err := tr.Prune(ctx, v); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `OPTIMIZE TABLE m_nodes, m_top, m_versions`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE TABLE m_nodes, m_top, m_versions`); err != nil {
		b.Fatal(err)
	}
	var size int64
	if err := db.QueryRowContext(ctx, `SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = DATABASE()`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/float64(n), "bytes/object")
}
