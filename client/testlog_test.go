package client

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
)

// testLog is an in-memory log built with golang.org/x/mod/sumdb/tlog, an
// implementation of RFC 6962 trees independent of the one Verify uses. Its
// checkpoints are signed by a log key and cosigned by three witnesses.
type testLog struct {
	t         testing.TB
	origin    string
	vkey      string
	signer    note.Signer
	wskeys    []string
	wvkeys    []string
	entries   [][]byte
	hashes    []tlog.Hash // tlog's stored hashes of the tree
	docSalt   []byte
	docText   []byte
	signerKey *entry.PrivateKey
}

const testOrigin = "tabularium.test/land"

func newTestLog(t testing.TB) *testLog {
	t.Helper()
	skey, vkey, err := log.GenerateKey(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := log.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{t: t, origin: testOrigin, vkey: vkey, signer: signer, docSalt: []byte("0123456789abcdef0123456789abcdef"), docText: []byte("deed of parcel 7")}
	for i := 0; i < 3; i++ {
		ws, wv, err := log.GenerateKey(fmt.Sprintf("w%d.witness.test", i))
		if err != nil {
			t.Fatal(err)
		}
		cv, err := log.CosignatureVKey(wv)
		if err != nil {
			t.Fatal(err)
		}
		l.wskeys, l.wvkeys = append(l.wskeys, ws), append(l.wvkeys, cv)
	}
	if l.signerKey, err = entry.GenerateKey(entry.KeyEd25519); err != nil {
		t.Fatal(err)
	}
	return l
}

// policy is a 2-of-3 trust policy for the log.
func (l *testLog) policy() *log.Policy {
	l.t.Helper()
	p, err := log.ParsePolicy([]byte(l.policyText()))
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

func (l *testLog) policyText() string {
	text := "log " + l.vkey + "\n"
	for i, v := range l.wvkeys {
		text += fmt.Sprintf("witness w%d %s\n", i, v)
	}
	return text + "group two 2 w0 w1 w2\nquorum two\n"
}

func (l *testLog) hashAt(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = l.hashes[x]
	}
	return out, nil
}

// add appends data as the next leaf.
func (l *testLog) add(data []byte) {
	l.t.Helper()
	hs, err := tlog.StoredHashes(int64(len(l.entries)), data, tlog.HashReaderFunc(l.hashAt))
	if err != nil {
		l.t.Fatal(err)
	}
	l.entries = append(l.entries, data)
	l.hashes = append(l.hashes, hs...)
}

// addEntry appends a signed land.register entry with one document commitment.
func (l *testLog) addEntry(object string) {
	l.t.Helper()
	p := &entry.Payload{
		Log: l.origin, Type: entry.TypeLandRegister, Object: object, Time: 1700000000,
		Fields: &entry.OwnersFields{Owners: []entry.Share{{Key: l.signerKey.Public, Share: "1"}}},
		Docs:   []entry.Commitment{entry.CommitWithSalt("deed", l.docSalt, l.docText)},
	}
	raw, err := entry.New(p, l.signerKey)
	if err != nil {
		l.t.Fatal(err)
	}
	l.add(raw)
}

func (l *testLog) root(size int) tlog.Hash {
	l.t.Helper()
	h, err := tlog.TreeHash(int64(size), tlog.HashReaderFunc(l.hashAt))
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

// checkpoint signs the tree of the given size, cosigned by the witnesses w at t.
func (l *testLog) checkpoint(size int, t time.Time, w ...int) []byte {
	l.t.Helper()
	cp := log.Checkpoint{Origin: l.origin, Size: uint64(size), Hash: l.root(size)}
	signers := []note.Signer{l.signer}
	for _, i := range w {
		c, err := log.NewCosigner(l.wskeys[i], func() time.Time { return t })
		if err != nil {
			l.t.Fatal(err)
		}
		signers = append(signers, c)
	}
	msg, err := note.Sign(&note.Note{Text: string(cp.Marshal())}, signers...)
	if err != nil {
		l.t.Fatal(err)
	}
	return msg
}

// cert returns the certificate of entry index in the tree of size, with a
// checkpoint cosigned at t by the witnesses w.
func (l *testLog) cert(index, size int, t time.Time, w ...int) *Certificate {
	l.t.Helper()
	rp, err := tlog.ProveRecord(int64(size), int64(index), tlog.HashReaderFunc(l.hashAt))
	if err != nil {
		l.t.Fatal(err)
	}
	c := &Certificate{Entry: l.entries[index], Index: uint64(index), Checkpoint: l.checkpoint(size, t, w...)}
	for _, h := range rp {
		c.Hashes = append(c.Hashes, [32]byte(h))
	}
	return c
}

// prover answers consistency proofs from the tlog tree.
type tlogProver struct{ l *testLog }

func (p tlogProver) ConsistencyProof(_ context.Context, oldSize, newSize uint64) ([][]byte, error) {
	tp, err := tlog.ProveTree(int64(newSize), int64(oldSize), tlog.HashReaderFunc(p.l.hashAt))
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(tp))
	for i := range tp {
		out[i] = tp[i][:]
	}
	return out, nil
}
