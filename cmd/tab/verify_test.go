package main

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tabularium/tabularium/log"
)

// TestVerifyHostileReceiptMakesNoRequest: scanning a QR code whose receipt
// names a log the verifier's policy does not list is refused before any
// network request, so a printed code cannot make the verifier fetch an address
// of its choosing.
func TestVerifyHostileReceiptMakesNoRequest(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "recorded", http.StatusTeapot)
	}))
	defer srv.Close()
	_, vkey, err := log.GenerateKey("registry.example/land")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	policy := filepath.Join(dir, "trust.policy")
	if err := os.WriteFile(policy, []byte("log "+vkey+"\nquorum none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hash := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	// What a scanner reads from the code: the receipt as text, or in a file.
	// (The PNG path is the same after decoding; the decoder's robustness is
	// tested apart.)
	file := filepath.Join(dir, "hostile.txt")
	for _, origin := range []string{"evil.example/land", "registry.example/lands"} {
		receipt := srv.URL + "/logs/land/proof/7#tab1:" + origin + ":" + hash
		if err := os.WriteFile(file, []byte(receipt+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, arg := range []string{receipt, file} {
			_, err := tabCLI("verify", "--policy", policy, arg)
			if err == nil || !strings.HasPrefix(err.Error(), "REFUSED ") || !strings.Contains(err.Error(), "log not in the trust policy") {
				t.Fatalf("verify of a receipt of %s: %v; want REFUSED, log not in the trust policy", origin, err)
			}
			t.Log(err)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("the receipt's server got %d requests", n)
	}
}
