package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/personality/api"
	"github.com/tabularium/tabularium/personality/entry"
)

// tabCLI runs tab in-process and returns its stdout.
func tabCLI(args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, &out, &errb)
	return out.String(), err
}

// readQRPNG decodes a PNG file's QR code with gozxing, a QR implementation
// independent of the encoder tab qr uses (skip2/go-qrcode).
func readQRPNG(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode the QR code of %s: %v", path, err)
	}
	return res.GetText()
}

// TestQRPNGDecodesToExactReceipt: the PNG tab qr writes reads back, with an
// independent decoder, to exactly the receipt it prints, and tab qr of that
// receipt writes the same image.
func TestQRPNGDecodesToExactReceipt(t *testing.T) {
	dir := t.TempDir()
	cert := "../../client/testdata/land.tlog-proof"
	png1 := filepath.Join(dir, "cert.png")
	out, err := tabCLI("qr", "--out", png1, "--server", "https://land.registry.example/", "--log", "land", cert)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSuffix(out, "\n")
	r, err := client.ParseReceipt([]byte(text))
	if err != nil {
		t.Fatalf("tab qr printed %q: %v", out, err)
	}
	if got := readQRPNG(t, png1); got != text {
		t.Fatalf("the QR code reads %q, tab qr printed %q", got, text)
	}
	b, _ := os.ReadFile(cert)
	c, _ := client.ParseCertificate(b)
	if r.EntryHash != entry.Hash(c.Entry) || r.Index != c.Index || r.Origin != "tabularium.local/land" {
		t.Fatalf("receipt %+v is not of the certificate's entry", r)
	}
	t.Logf("receipt: %d bytes (certificate: %d bytes): %s", len(text), len(b), text)

	png2 := filepath.Join(dir, "receipt.png")
	if _, err := tabCLI("qr", "--out", png2, text); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(png1)
	b2, _ := os.ReadFile(png2)
	if !bytes.Equal(b1, b2) {
		t.Error("tab qr of the receipt and of its certificate differ")
	}
	// tab verify reads the receipt back from the PNG and from a text file.
	if _, r2, err := readEvidence(png1); err != nil || *r2 != *r {
		t.Errorf("readEvidence(PNG) = %+v, %v", r2, err)
	}
	txt := filepath.Join(dir, "receipt.txt")
	_ = os.WriteFile(txt, []byte(text+"\n"), 0o644)
	if _, r2, err := readEvidence(txt); err != nil || *r2 != *r {
		t.Errorf("readEvidence(text file) = %+v, %v", r2, err)
	}

	for name, args := range map[string][]string{
		"cert without server": {"qr", "--out", png1, "--log", "land", cert},
		"cert without log":    {"qr", "--out", png1, "--server", "https://land.registry.example", cert},
		"bad server":          {"qr", "--out", png1, "--server", "land.registry.example", "--log", "land", cert},
		"receipt with space":  {"qr", "--out", png1, text + " "},
		"no out":              {"qr", cert},
	} {
		if _, err := tabCLI(args...); err == nil {
			t.Errorf("%s: tab %s succeeded", name, strings.Join(args, " "))
		}
	}
}

// TestVerifyReceiptOnline registers a parcel on a real witnessed server,
// prints its receipt as a QR code, and verifies the receipt (as text, as a
// file and as the PNG) by completing it online; a server that answers with
// another entry is refused with the two hashes.
func TestVerifyReceiptOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tabularium")
	}
	dir := t.TempDir()
	url, policyFile := startWitnessedServer(t, dir)
	must := func(args ...string) string {
		t.Helper()
		out, err := tabCLI(args...)
		if err != nil {
			t.Fatalf("tab %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(out)
	}
	reg := must("keygen", "--out", filepath.Join(dir, "registrar.key"))
	owner := must("keygen", "--out", filepath.Join(dir, "owner.key"))
	f := filepath.Join(dir, "grant.cose")
	must("entry", "new", "--log", "tabularium.local/land", "--type", "role.grant", "--object", "role/registrar/"+reg,
		"--fields", `{"role":"registrar","holder":"`+reg+`"}`, "--out", f)
	must("entry", "sign", "--key", filepath.Join(dir, "data", "keys", "land-root.key"), f)
	must("submit", "--server", url, "--log", "land", f)
	f = filepath.Join(dir, "register.cose")
	must("entry", "new", "--log", "tabularium.local/land", "--type", "land.register", "--object", "land/parcel-3",
		"--fields", `{"owners":[{"key":"`+owner+`","share":"1"}]}`, "--doc", "deed:"+strings.Repeat("5a", 32), "--out", f)
	must("entry", "sign", "--key", filepath.Join(dir, "registrar.key"), f)
	must("entry", "sign", "--key", filepath.Join(dir, "owner.key"), f)
	var sub api.SubmitResponse
	if err := json.Unmarshal([]byte(must("submit", "--server", url, "--log", "land", "--wait", f)), &sub); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "parcel-3.tlog-proof")
	must("cert", "--server", url, "--log", "land", "--out", cert, fmt.Sprint(sub.Index))
	qr := filepath.Join(dir, "parcel-3.png")
	receipt := must("qr", "--out", qr, "--server", url, "--log", "land", cert)
	certBytes, _ := os.ReadFile(cert)
	t.Logf("receipt: %d bytes; certificate: %d bytes (log of %d entries, 2 of 3 witnesses): %s", len(receipt), len(certBytes), sub.Index+1, receipt)
	wantHash, _ := hex.DecodeString(sub.EntryHash)
	if !strings.HasSuffix(receipt, ":"+base64.RawURLEncoding.EncodeToString(wantHash)) {
		t.Fatalf("receipt %s does not end in the entry hash %s", receipt, sub.EntryHash)
	}

	txt := filepath.Join(dir, "receipt.txt")
	_ = os.WriteFile(txt, []byte(receipt+"\n"), 0o644)
	for _, arg := range []string{receipt, txt, qr} {
		out := must("verify", "--policy", policyFile, "--max-age", "1h", arg)
		for _, want := range []string{"VERIFIED land.register of land/parcel-3", "signed by:  " + reg, "witnessed:  by w",
			"receipt:    completed online from " + url + "/logs/land/proof/" + fmt.Sprint(sub.Index)} {
			if !strings.Contains(out, want) {
				t.Errorf("verify %s: output lacks %q:\n%s", arg, want, out)
			}
		}
	}

	// A server that answers for the parcel's entry with the certificate of
	// another entry, whole or with only the entry swapped.
	get := func(i uint64) *client.Certificate {
		c, err := client.NewFetcher(url, "land", nil).Certificate(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	grant := get(0)
	grantHash := entry.Hash(grant.Entry)
	for name, tc := range map[string]struct {
		answer func() *client.Certificate
		want   string
	}{
		"swapped entry": {func() *client.Certificate {
			c := get(sub.Index)
			c.Entry = grant.Entry
			return c
		}, fmt.Sprintf("entry %d: the receipt names entry hash %s, the server's entry hashes to %s", sub.Index,
			base64.RawURLEncoding.EncodeToString(wantHash), base64.RawURLEncoding.EncodeToString(grantHash[:]))},
		"another entry's certificate": {func() *client.Certificate { return get(0) },
			fmt.Sprintf("the receipt names entry %d, the server's certificate is of entry 0", sub.Index)},
	} {
		t.Run(name, func(t *testing.T) {
			fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := tc.answer().Marshal()
				if err != nil {
					t.Error(err)
				}
				_, _ = io.Copy(w, bytes.NewReader(b))
			}))
			defer fake.Close()
			lying := must("qr", "--out", filepath.Join(dir, "lying.png"), "--server", fake.URL, receipt)
			_, err := tabCLI("verify", "--policy", policyFile, lying)
			if err == nil || !strings.HasPrefix(err.Error(), "REFUSED ") ||
				!strings.Contains(err.Error(), "the server's certificate is not of the entry the receipt names: "+tc.want) {
				t.Fatalf("verify of a receipt completed by a lying server: %v; want %q", err, tc.want)
			}
			t.Log(err)
		})
	}

	// A receipt naming the grant's hash at the parcel's index, against the
	// honest server.
	forged := strings.TrimSuffix(receipt, base64.RawURLEncoding.EncodeToString(wantHash)) + base64.RawURLEncoding.EncodeToString(grantHash[:])
	if _, err := tabCLI("verify", "--policy", policyFile, forged); err == nil || !strings.Contains(err.Error(), "the receipt names entry hash") {
		t.Fatalf("verify of a receipt with another entry's hash: %v", err)
	}
}
