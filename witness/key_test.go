package witness_test

import (
	"testing"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/witness"
)

// TestLogKeyWithPlusIsNotMistakenForACosignatureKey guards against reading a
// key's type from after its last '+': base64 may itself contain '+'. In this
// real Ed25519 log key, the text after the last '+' ("BMSq") decodes to bytes
// starting with 0x04, the cosignature key type.
func TestLogKeyWithPlusIsNotMistakenForACosignatureKey(t *testing.T) {
	const vkey = "example.com/log+831c71dd+AV6EaKpIjqxKkEwVOhqNdM7t7aziJbkpj5GMtk6+BMSq"
	if typ, err := log.KeyType(vkey); err != nil || typ != log.KeyTypeEd25519 {
		t.Fatalf("KeyType = %#x, %v; want Ed25519", typ, err)
	}
	wkey, _, err := log.GenerateKey("witness.example/w")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := witness.New(witness.Config{SignerKey: wkey, Store: witness.NewMemoryStore(),
		Logs: []witness.Log{{Origin: "example.com/log", VKey: vkey}}}); err != nil {
		t.Fatalf("log key %q refused: %v", vkey, err)
	}
}
