package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// demo seeds the dev stack's registries: it holds the demo parties' keys and each
// object's latest entry hash, and remembers the entries worth a sample certificate.
type demo struct {
	ctx     context.Context
	s       *server
	data    string
	keys    map[string]*entry.PrivateKey
	prev    map[string][32]byte
	samples []sample
}

// sample is an entry whose certificate dev writes to <data>/samples/<name>.tlog-proof.
type sample struct {
	name     string
	log      *servedLog
	index    uint64
	openings []client.Opening
}

// seedDemo writes a small, realistic registry on the first start of a dev data
// folder and the sample certificates; later starts find the marker and skip it.
func seedDemo(ctx context.Context, s *server, data string, logger *slog.Logger) error {
	marker := filepath.Join(data, "demo", "seeded")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	d := &demo{ctx: ctx, s: s, data: data, keys: map[string]*entry.PrivateKey{}, prev: map[string][32]byte{}}
	for _, step := range []func() error{d.land, d.diplomas, d.vaccinations, d.writeSamples} {
		if err := step(); err != nil {
			return err
		}
	}
	logger.Info("seeded the demo registry", "samples", len(d.samples))
	return os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// key returns the demo party's key, made on first use and kept (mode 0600) in
// <data>/demo/keys/<who>.key for the tab commands; "root-<log>" is the log's root.
func (d *demo) key(who string) (*entry.PrivateKey, error) {
	if k, ok := d.keys[who]; ok {
		return k, nil
	}
	path := filepath.Join(d.data, "demo", "keys", who+".key")
	if log, ok := strings.CutPrefix(who, "root-"); ok {
		path = RootKeyPath(d.data, log)
	}
	k, _, err := partyKey(path)
	if err != nil {
		return nil, err
	}
	d.keys[who] = k
	return k, nil
}

func (d *demo) logNamed(name string) *servedLog {
	for _, sl := range d.s.logs {
		if sl.cfg.Name == name {
			return sl
		}
	}
	return nil
}

// submit signs and submits one entry; docs are committed with fresh salts and
// their openings returned in the same order.
func (d *demo) submit(logName, typ, object string, fields any, docs map[string]string, signers ...string) (uint64, []client.Opening, error) {
	sl := d.logNamed(logName)
	p := &entry.Payload{Log: sl.cfg.Origin, Type: typ, Object: object, Time: time.Now().Unix(), Fields: fields}
	if h, ok := d.prev[logName+" "+object]; ok {
		p.Prev = h[:]
	}
	var openings []client.Opening
	for _, kind := range []string{"deed", "order", "record", "contents"} {
		doc, ok := docs[kind]
		if !ok {
			continue
		}
		c, salt, err := entry.Commit(kind, []byte(doc))
		if err != nil {
			return 0, nil, err
		}
		openings = append(openings, client.Opening{Doc: uint64(len(p.Docs)), Salt: salt, Contents: []byte(doc)})
		p.Docs = append(p.Docs, c)
	}
	var keys []*entry.PrivateKey
	for _, who := range signers {
		k, err := d.key(who)
		if err != nil {
			return 0, nil, err
		}
		keys = append(keys, k)
	}
	raw, err := entry.New(p, keys...)
	if err != nil {
		return 0, nil, err
	}
	rc, err := sl.reg.Submit(d.ctx, raw, false)
	if err != nil {
		var re *rules.Error
		if errors.As(err, &re) {
			return 0, nil, fmt.Errorf("%s on %s refused: %s: %s", typ, object, re.Code, re.Message)
		}
		return 0, nil, fmt.Errorf("%s on %s: %w", typ, object, err)
	}
	d.prev[logName+" "+object] = rc.EntryHash
	return rc.Index, openings, nil
}

// grant has grantor grant role to the party who in logName.
func (d *demo) grant(logName, role, who, grantor string) error {
	k, err := d.key(who)
	if err != nil {
		return err
	}
	_, _, err = d.submit(logName, entry.TypeRoleGrant, "role/"+role+"/"+string(k.Public),
		&entry.RoleFields{Role: role, Holder: k.Public}, nil, grantor)
	return err
}

func (d *demo) pub(who string) entry.PublicKey {
	k, _ := d.key(who)
	return k.Public
}

// land: two registrars, a notary, a bank and a court; parcel-1 is sold to two
// buyers and pledged to the bank; parcel-2 is arrested by the court.
func (d *demo) land() error {
	for _, g := range [][2]string{{"registrar", "registrar-1"}, {"registrar", "registrar-2"}, {"notary", "notary"}, {"bank", "bank"}, {"court", "court"}} {
		if err := d.grant("land", g[0], g[1], "root-land"); err != nil {
			return err
		}
	}
	for _, who := range []string{"alice", "bob", "carol", "dave"} {
		if _, err := d.key(who); err != nil {
			return err
		}
	}
	one := func(who string) []entry.Share { return []entry.Share{{Key: d.pub(who), Share: "1"}} }
	steps := []struct {
		typ, object string
		fields      any
		docs        map[string]string
		signers     []string
		sample      string
	}{
		{entry.TypeLandRegister, "land/parcel-1", &entry.OwnersFields{Owners: one("alice")}, map[string]string{"deed": "title deed of parcel 1, 812 m2"}, []string{"registrar-1"}, ""},
		{entry.TypeLandTransfer, "land/parcel-1", &entry.TransferFields{Buyers: []entry.Share{{Key: d.pub("bob"), Share: "1/2"}, {Key: d.pub("carol"), Share: "1/2"}}},
			map[string]string{"deed": "sale of parcel 1 to two buyers in equal shares"}, []string{"alice", "bob", "carol", "notary"}, "parcel-1-transfer"},
		{entry.TypeLandPledge, "land/parcel-1", &entry.PledgeFields{Pledgee: d.pub("bank")}, nil, []string{"bob", "carol", "bank", "registrar-1"}, "parcel-1-pledge"},
		{entry.TypeLandRegister, "land/parcel-2", &entry.OwnersFields{Owners: one("dave")}, map[string]string{"deed": "title deed of parcel 2, 1460 m2"}, []string{"registrar-2"}, ""},
		{entry.TypeLandArrest, "land/parcel-2", &entry.NoFields{}, map[string]string{"order": "court order freezing parcel 2"}, []string{"court"}, "parcel-2-arrest"},
	}
	for _, st := range steps {
		idx, openings, err := d.submit("land", st.typ, st.object, st.fields, st.docs, st.signers...)
		if err != nil {
			return err
		}
		if st.sample != "" {
			d.samples = append(d.samples, sample{name: st.sample, log: d.logNamed("land"), index: idx, openings: openings})
		}
	}
	return nil
}

// credentialObject names a diploma or vaccination certificate by the hash of its
// identifier, which stays off the log.
func credentialObject(kind, id string) string {
	h := sha256.Sum256([]byte(id))
	return kind + "/" + hex.EncodeToString(h[:])
}

// diplomas: the ministry accredits a university, which issues two diplomas.
func (d *demo) diplomas() error {
	if err := d.grant("diplomas", rules.RoleEduMinistry, "education-ministry", "root-diplomas"); err != nil {
		return err
	}
	if err := d.grant("diplomas", rules.RoleUniversity, "university", "education-ministry"); err != nil {
		return err
	}
	for _, who := range []string{"alice", "bob"} {
		record := fmt.Sprintf(`{"credential":"DIP-2026-%s","degree":"MSc Land Surveying","grade":"distinction"}`, who)
		idx, openings, err := d.submit("diplomas", entry.TypeDiplomaIssue, credentialObject("diploma", "DIP-2026-"+who),
			&entry.HolderFields{Holder: d.pub(who)}, map[string]string{"record": record}, "university")
		if err != nil {
			return err
		}
		d.samples = append(d.samples, sample{name: "diploma-" + who, log: d.logNamed("diplomas"), index: idx, openings: openings})
	}
	return nil
}

// vaccinations: the health authority registers a clinic, which issues three
// certificates from two batches; one certificate is then revoked.
func (d *demo) vaccinations() error {
	if err := d.grant("vaccinations", rules.RoleHealth, "health-authority", "root-vaccinations"); err != nil {
		return err
	}
	if err := d.grant("vaccinations", rules.RoleVaccinationIs, "clinic", "health-authority"); err != nil {
		return err
	}
	for i, c := range []struct{ id, batch, who string }{{"VAC-1", "B-1", "alice"}, {"VAC-2", "B-1", "bob"}, {"VAC-3", "B-2", "carol"}} {
		contents := fmt.Sprintf(`{"certificate":%q,"vaccine":"measles","dose":1,"batch":%q}`, c.id, c.batch)
		idx, openings, err := d.submit("vaccinations", entry.TypeVaccinationIssue, credentialObject("vaccination", c.id),
			&entry.BatchFields{Batch: c.batch}, map[string]string{"contents": contents}, "clinic")
		if err != nil {
			return err
		}
		name := "vaccination-" + c.who
		if i == 2 {
			name = "vaccination-revoked"
		}
		d.samples = append(d.samples, sample{name: name, log: d.logNamed("vaccinations"), index: idx, openings: openings})
	}
	_, _, err := d.submit("vaccinations", entry.TypeVaccinationRevoke, credentialObject("vaccination", "VAC-3"), &entry.NoFields{}, nil, "clinic")
	return err
}

// writeSamples waits until a witnessed checkpoint covers every sample and writes
// its certificate, with the openings of its documents.
func (d *demo) writeSamples() error {
	dir := filepath.Join(d.data, "samples")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(d.ctx, time.Minute)
	defer cancel()
	for _, sm := range d.samples {
		if _, err := sm.log.log.AwaitPublished(ctx, sm.index); err != nil {
			return err
		}
		c, err := client.Issue(ctx, sm.log.log.Reader(), sm.index, sm.log.reg, sm.log.store)
		if err != nil {
			return err
		}
		c.Openings = sm.openings
		b, err := c.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, sm.name+".tlog-proof"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
