package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// generator makes one worker's entries, in the order they must be submitted.
// Every call returns the next entries: one certificate or diploma, or the whole
// life of one parcel.
type generator interface {
	more() ([]*item, error)
}

// certsPerBatch is how many certificates name one vaccine batch (a batch
// object no longer grows with its certificates; this keeps the mix's batches
// at a realistic size).
const certsPerBatch = 500

// mixedKinds is the rotation of registry kinds over the workers of the mixed
// mix: half vaccinations, three tenths land, a fifth diplomas.
var mixedKinds = []string{
	rules.KindVaccinations, rules.KindLand, rules.KindDiplomas, rules.KindVaccinations, rules.KindLand,
	rules.KindVaccinations, rules.KindDiplomas, rules.KindVaccinations, rules.KindLand, rules.KindVaccinations,
}

// newGenerator returns worker w's generator. Objects are named after the run
// and the worker, so runs and workers never touch each other's objects.
func newGenerator(mix string, w int, run string, targets map[string]*target, a map[string]*actors) generator {
	kind := mixKinds[mix][0]
	if mix == "mixed" {
		kind = mixedKinds[w%len(mixedKinds)]
	}
	prefix := fmt.Sprintf("%s-%d", run, w)
	t, ac := targets[kind], a[kind]
	switch kind {
	case rules.KindVaccinations:
		return &vaccinationGen{t: t, issuer: pick(ac.issuers, w), prefix: prefix}
	case rules.KindDiplomas:
		return &diplomaGen{t: t, university: pick(ac.universities, w), prefix: prefix}
	}
	return &landGen{t: t, a: ac, prefix: prefix, w: w}
}

func pick(keys []*entry.PrivateKey, i int) *entry.PrivateKey { return keys[i%len(keys)] }

// vaccinationGen issues certificates, signed by one registered issuer.
type vaccinationGen struct {
	t      *target
	issuer *entry.PrivateKey
	prefix string
	n      int
}

func (g *vaccinationGen) more() ([]*item, error) {
	id := sha256.Sum256(fmt.Appendf(nil, "certificate %s-%d", g.prefix, g.n))
	batch := fmt.Sprintf("%s-b%d", g.prefix, g.n/certsPerBatch)
	g.n++
	it, err := signed(g.t, -1, &entry.Payload{
		Type: entry.TypeVaccinationIssue, Object: "vaccination/" + hex.EncodeToString(id[:]),
		Fields: &entry.BatchFields{Batch: batch}, Docs: []entry.Commitment{commitment("contents")},
	}, g.issuer)
	return []*item{it}, err
}

// diplomaGen issues diplomas to fresh holder keys, signed by one university.
type diplomaGen struct {
	t          *target
	university *entry.PrivateKey
	prefix     string
	n          int
}

func (g *diplomaGen) more() ([]*item, error) {
	id := sha256.Sum256(fmt.Appendf(nil, "diploma %s-%d", g.prefix, g.n))
	g.n++
	holder, err := entry.GenerateKey(entry.KeyEd25519)
	if err != nil {
		return nil, err
	}
	it, err := signed(g.t, -1, &entry.Payload{
		Type: entry.TypeDiplomaIssue, Object: "diploma/" + hex.EncodeToString(id[:]),
		Fields: &entry.HolderFields{Holder: holder.Public}, Docs: []entry.Commitment{commitment("record")},
	}, g.university)
	return []*item{it}, err
}

// landGen makes the life of one parcel per call: registration, a pledge and
// its release, a sale to two buyers, their sale to a third, a new pledge and
// its release; 7 entries with 2 to 4 signatures, 20 in all. Each entry names
// the previous one's hash, so a worker submits them in order.
type landGen struct {
	t      *target
	a      *actors
	prefix string
	w      int
	n      int
}

func (g *landGen) more() ([]*item, error) {
	chain := g.n
	g.n++
	var p [4]*entry.PrivateKey // first owner, two buyers, the buyer from both
	for i := range p {
		k, err := entry.GenerateKey(entry.KeyEd25519)
		if err != nil {
			return nil, err
		}
		p[i] = k
	}
	reg, notary, bank := pick(g.a.registrars, g.w+chain), pick(g.a.notaries, g.w+chain), pick(g.a.banks, g.w+chain)
	c := &chainBuilder{t: g.t, object: fmt.Sprintf("land/%s-%d", g.prefix, chain), chain: chain}
	c.add(entry.TypeLandRegister, &entry.OwnersFields{Owners: []entry.Share{{Key: p[0].Public, Share: "1"}}}, "deed", reg, p[0])
	c.add(entry.TypeLandPledge, &entry.PledgeFields{Pledgee: bank.Public}, "", p[0], bank, reg)
	c.add(entry.TypeLandRelease, &entry.ReleaseFields{Pledge: 1}, "", bank, reg)
	half := []entry.Share{{Key: p[1].Public, Share: "1/2"}, {Key: p[2].Public, Share: "1/2"}}
	c.add(entry.TypeLandTransfer, &entry.TransferFields{Buyers: half}, "deed", p[0], p[1], p[2], notary)
	c.add(entry.TypeLandTransfer, &entry.TransferFields{Buyers: []entry.Share{{Key: p[3].Public, Share: "1"}}}, "deed", p[1], p[2], p[3], notary)
	c.add(entry.TypeLandPledge, &entry.PledgeFields{Pledgee: bank.Public}, "", p[3], bank, reg)
	c.add(entry.TypeLandRelease, &entry.ReleaseFields{Pledge: 2}, "", bank, reg)
	return c.items, c.err
}

// chainBuilder signs the entries of one object, each naming the previous.
type chainBuilder struct {
	t      *target
	object string
	chain  int
	items  []*item
	err    error
}

func (c *chainBuilder) add(typ string, fields any, doc string, keys ...*entry.PrivateKey) {
	if c.err != nil {
		return
	}
	p := &entry.Payload{Type: typ, Object: c.object, Fields: fields}
	if n := len(c.items); n > 0 {
		p.Prev = c.items[n-1].hash[:]
	}
	if doc != "" {
		p.Docs = []entry.Commitment{commitment(doc)}
	}
	it, err := signed(c.t, c.chain, p, keys...)
	c.items, c.err = append(c.items, it), err
}

// signed completes p for t, has every key sign it, and returns it as an item.
func signed(t *target, chain int, p *entry.Payload, keys ...*entry.PrivateKey) (*item, error) {
	p.Log, p.Time = t.origin, time.Now().Unix()
	raw, err := entry.New(p, keys...)
	if err != nil {
		return nil, fmt.Errorf("sign %s for %s: %w", p.Type, p.Object, err)
	}
	return &item{target: t, body: raw, hash: entry.Hash(raw), object: p.Object, chain: chain, sigs: len(keys)}, nil
}

// commitment stands for a salted commitment to an off-log document: 32 random
// bytes are indistinguishable from SHA-256(salt || document).
func commitment(kind string) entry.Commitment {
	h := make([]byte, sha256.Size)
	_, _ = rand.Read(h)
	return entry.Commitment{Kind: kind, Hash: h}
}

// rawGen makes random bodies of a fixed size for --raw-add.
type rawGen struct {
	t    *target
	size int
}

func (g *rawGen) more() ([]*item, error) {
	b := make([]byte, g.size)
	_, _ = rand.Read(b)
	return []*item{{target: g.t, body: b, chain: -1}}, nil
}
