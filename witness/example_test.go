package witness_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"

	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/witness"
)

// A witness runs in-process as an http.Handler; a log submits its first
// checkpoint with an old size of zero and gets a cosignature back.
func Example() {
	logSKey, logVKey, _ := log.GenerateKey("registry.example/log")
	witnessSKey, _, _ := log.GenerateKey("witness.example/w1")

	w, err := witness.New(witness.Config{
		SignerKey: witnessSKey,
		Logs:      []witness.Log{{Origin: "registry.example/log", VKey: logVKey}},
		Store:     witness.NewMemoryStore(),
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(w)
	defer srv.Close()

	signer, _ := log.NewSigner(logSKey)
	cp := log.Checkpoint{Origin: "registry.example/log", Size: 0, Hash: log.EmptyRoot}
	msg, _ := note.Sign(&note.Note{Text: string(cp.Marshal())}, signer)
	resp, err := http.Post(srv.URL+"/add-checkpoint", "text/plain", bytes.NewReader(append([]byte("old 0\n\n"), msg...)))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()

	var cosig bytes.Buffer
	cosig.ReadFrom(resp.Body)
	wv, _ := log.NewVerifier(w.VerifierKey())
	lv, _ := log.NewVerifier(logVKey)
	n, err := note.Open(append(msg, cosig.Bytes()...), note.VerifierList(lv, wv))
	fmt.Println(resp.StatusCode, err, len(n.Sigs))
	// Output: 200 <nil> 2
}
