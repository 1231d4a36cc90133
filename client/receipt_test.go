package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log"
)

const goodReceipt = "https://registry.example/logs/land/proof/42#tab1:registry.example/land:" +
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

func TestReceiptRoundTrip(t *testing.T) {
	var h [32]byte
	for i := range h {
		h[i] = byte(i)
	}
	for _, r := range []Receipt{
		{Server: "https://registry.example", Log: "land", Origin: "registry.example/land", Index: 42, EntryHash: h},
		{Server: "http://127.0.0.1:8080", Log: "land", Origin: "tabularium.local/land", Index: 0},
		{Server: "http://[::1]:8080", Log: "v-2", Origin: "a:b/c~d_e.f-g", Index: 1<<64 - 1, EntryHash: h},
		{Server: "https://registry.example/mirror/tab.v1", Log: "logs", Origin: "x", Index: 7},
		{Server: "https://h.example/proof/logs", Log: "proof", Origin: "h.example/logs/proof/1", Index: 10},
	} {
		b, err := r.Marshal()
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		got, err := ParseReceipt(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if *got != r {
			t.Errorf("%s parsed as %+v, want %+v", b, got, r)
		}
		if got.URL() != string(b[:bytes.IndexByte(b, '#')]) {
			t.Errorf("URL() = %s", got.URL())
		}
	}
	r, err := ParseReceipt([]byte(goodReceipt))
	if err != nil || r.Index != 42 || r.Origin != "registry.example/land" || r.Server != "https://registry.example" || r.Log != "land" {
		t.Fatalf("ParseReceipt(%s) = %+v, %v", goodReceipt, r, err)
	}
}

// TestNonCanonicalReceiptRefused: every other spelling of a receipt, and every
// receipt that points elsewhere than a proof endpoint, is refused.
func TestNonCanonicalReceiptRefused(t *testing.T) {
	hash := goodReceipt[strings.LastIndexByte(goodReceipt, ':')+1:]
	frag := "#tab1:registry.example/land:" + hash
	for name, s := range map[string]string{
		"empty":              "",
		"trailing newline":   goodReceipt + "\n",
		"leading space":      " " + goodReceipt,
		"no fragment":        "https://registry.example/logs/land/proof/42",
		"other version":      strings.Replace(goodReceipt, "#tab1:", "#tab2:", 1),
		"no version":         strings.Replace(goodReceipt, "#tab1:", "#", 1),
		"two fragments":      goodReceipt + "#x",
		"padded hash":        goodReceipt + "=",
		"short hash":         goodReceipt[:len(goodReceipt)-1],
		"long hash":          goodReceipt + "A",
		"std base64 hash":    strings.Replace(goodReceipt, hash, strings.Repeat("+", 42)+"A", 1),
		"non-zero pad bits":  goodReceipt[:len(goodReceipt)-1] + "9",
		"hex hash":           strings.Replace(goodReceipt, hash, strings.Repeat("ab", 32), 1),
		"empty origin":       "https://registry.example/logs/land/proof/42#tab1::" + hash,
		"escaped origin":     strings.Replace(goodReceipt, "example/land", "example%2Fland", 1),
		"space in origin":    strings.Replace(goodReceipt, "registry.example/land:", "registry example/land:", 1),
		"leading zero":       strings.Replace(goodReceipt, "/42#", "/042#", 1),
		"signed index":       strings.Replace(goodReceipt, "/42#", "/+42#", 1),
		"huge index":         strings.Replace(goodReceipt, "/42#", "/18446744073709551616#", 1),
		"no index":           strings.Replace(goodReceipt, "/42#", "/#", 1),
		"not proof":          strings.Replace(goodReceipt, "/proof/", "/entries/", 1),
		"not logs":           strings.Replace(goodReceipt, "/logs/", "/log/", 1),
		"upper log name":     strings.Replace(goodReceipt, "/land/", "/Land/", 1),
		"escaped log name":   strings.Replace(goodReceipt, "/land/", "/l%61nd/", 1),
		"empty log name":     strings.Replace(goodReceipt, "/land/", "//", 1),
		"query":              strings.Replace(goodReceipt, "/42#", "/42?x=1#", 1),
		"ftp":                strings.Replace(goodReceipt, "https://", "ftp://", 1),
		"upper scheme":       strings.Replace(goodReceipt, "https://", "HTTPS://", 1),
		"upper host":         strings.Replace(goodReceipt, "https://registry", "https://Registry", 1),
		"userinfo":           strings.Replace(goodReceipt, "https://", "https://me@", 1),
		"default port":       strings.Replace(goodReceipt, ".example/logs", ".example:443/logs", 1),
		"leading zero port":  strings.Replace(goodReceipt, ".example/logs", ".example:0808/logs", 1),
		"empty port":         strings.Replace(goodReceipt, ".example/logs", ".example:/logs", 1),
		"port 0":             strings.Replace(goodReceipt, ".example/logs", ".example:0/logs", 1),
		"port 65536":         strings.Replace(goodReceipt, ".example/logs", ".example:65536/logs", 1),
		"dot segment":        strings.Replace(goodReceipt, ".example/logs", ".example/a/../logs", 1),
		"double slash":       strings.Replace(goodReceipt, ".example/logs", ".example//logs", 1),
		"escaped path":       strings.Replace(goodReceipt, ".example/logs", ".example/a%20b/logs", 1),
		"empty host":         "https:///logs/land/proof/42" + frag,
		"host dash":          strings.Replace(goodReceipt, "https://registry", "https://-registry", 1),
		"host trailing dot":  strings.Replace(goodReceipt, ".example/logs", ".example./logs", 1),
		"non-canonical ipv6": "http://[0:0::1]:8080/logs/land/proof/42" + frag,
		"ipv4 in ipv6":       "http://[::ffff:127.0.0.1]/logs/land/proof/42" + frag,
		"ipv6 zone":          "http://[fe80::1%25eth0]/logs/land/proof/42" + frag,
		"unbracketed ipv6":   "http://::1/logs/land/proof/42" + frag,
		"too long":           "https://" + strings.Repeat("a.", 250) + "example/logs/land/proof/42" + frag,
		"unicode host":       strings.Replace(goodReceipt, "registry.example/logs", "régistry.example/logs", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if r, err := ParseReceipt([]byte(s)); !errors.Is(err, ErrMalformedReceipt) {
				t.Fatalf("ParseReceipt(%q) = %+v, %v; want ErrMalformedReceipt", s, r, err)
			}
		})
	}
}

func TestReceiptForRealCertificate(t *testing.T) {
	b, err := os.ReadFile("testdata/land.tlog-proof")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReceiptFor(c, "https://registry.example/", "land")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := r.Marshal()
	t.Logf("receipt of the %d-byte certificate: %d bytes: %s", len(b), len(text), text)
	if r.Server != "https://registry.example" || r.Origin != "tabularium.local/land" || r.Index != c.Index {
		t.Errorf("receipt = %+v", r)
	}
	if err := r.Match(c); err != nil {
		t.Errorf("the receipt does not match its own certificate: %v", err)
	}
	if _, err := ReceiptFor(c, "registry.example", "land"); !errors.Is(err, ErrMalformedReceipt) {
		t.Errorf("server without scheme: %v", err)
	}
	if _, err := ReceiptFor(c, "https://registry.example", "Land"); !errors.Is(err, ErrMalformedReceipt) {
		t.Errorf("upper-case log name: %v", err)
	}
}

// proofServer serves the certificates of a test log at
// /logs/land/proof/{index}, after passing each through tamper.
func proofServer(t *testing.T, l *testLog, tamper func(index int, c *Certificate)) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /logs/land/proof/{index}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("index"))
		if err != nil || i < 0 || i >= len(l.entries) {
			http.NotFound(w, r)
			return
		}
		c := l.cert(i, len(l.entries), testNow.Add(-time.Minute), 0, 1, 2)
		tamper(i, c)
		b, err := c.Marshal()
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestCompleteRefusesAnotherEntry: whatever certificate the server answers
// with, Complete returns only one of the entry the receipt names, and that one
// then verifies offline.
func TestCompleteRefusesAnotherEntry(t *testing.T) {
	l := smallLog(t)
	other := newTestLog(t) // a second log of the same origin, with other keys
	other.addEntry("land/parcel-z")
	for name, tc := range map[string]struct {
		tamper func(i int, c *Certificate)
		want   error
		detail string
	}{
		"honest": {func(int, *Certificate) {}, nil, ""},
		"swapped entry": {func(i int, c *Certificate) {
			c.Entry = l.entries[(i+1)%len(l.entries)]
		}, ErrReceiptMismatch, "the receipt names entry hash"},
		"another index": {func(i int, c *Certificate) {
			*c = *l.cert(i-1, len(l.entries), testNow, 0, 1, 2)
		}, ErrReceiptMismatch, "the receipt names entry 2, the server's certificate is of entry 1"},
		"another log": {func(i int, c *Certificate) {
			c.Checkpoint = []byte(strings.Replace(string(c.Checkpoint), testOrigin, "tabularium.test/lands", 1))
		}, ErrReceiptMismatch, `the receipt names log "tabularium.test/land"`},
		"forked log, same origin": {func(i int, c *Certificate) {
			*c = *other.cert(0, 1, testNow, 0, 1, 2)
			c.Index = uint64(i)
		}, ErrReceiptMismatch, "the receipt names entry hash"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := proofServer(t, l, tc.tamper)
			r, err := ReceiptFor(l.cert(2, 5, testNow, 0, 1, 2), srv.URL, "land")
			if err != nil {
				t.Fatal(err)
			}
			c, err := Complete(context.Background(), l.policy(), r, srv.Client())
			var ve *VerifyError
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("Complete: %v", err)
			case tc.want == nil:
				s, err := Verify(l.policy(), c, testNow, time.Hour)
				if err != nil || s.EntryHash != r.EntryHash || s.Index != 2 {
					t.Fatalf("Verify of the completed receipt: %+v, %v", s, err)
				}
			case !errors.Is(err, tc.want) || !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.detail):
				t.Fatalf("Complete = %v, want %v with %q", err, tc.want, tc.detail)
			default:
				t.Log(err)
			}
		})
	}
	t.Run("not published", func(t *testing.T) {
		srv := proofServer(t, l, func(int, *Certificate) {})
		r, _ := ReceiptFor(l.cert(2, 5, testNow, 0, 1, 2), srv.URL, "land")
		r.Index = 9
		if _, err := Complete(context.Background(), l.policy(), r, srv.Client()); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Complete of an unpublished index = %v, want os.ErrNotExist", err)
		}
	})
}

// recorder is an HTTP server that answers nothing and counts the requests it
// gets.
func recorder(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "recorded", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestReceiptOfUnlistedLogMakesNoRequest: a receipt is text anyone can put in
// a QR code. One of a log the trust policy does not list is refused before any
// request, so scanning it cannot make the verifier fetch an address of the
// receipt's choosing.
func TestReceiptOfUnlistedLogMakesNoRequest(t *testing.T) {
	l := smallLog(t)
	srv, requests := recorder(t)
	for name, origin := range map[string]string{
		"another origin":       "evil.example/land",
		"origin with a suffix": testOrigin + "s",
		"origin of a witness":  l.policy().Witnesses[0].Verifier.Name(),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := ReceiptFor(l.cert(2, 5, testNow, 0, 1, 2), srv.URL, "land")
			if err != nil {
				t.Fatal(err)
			}
			r.Origin = origin
			_, err = Complete(context.Background(), l.policy(), r, srv.Client())
			var ve *VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrUnknownLog) || !strings.Contains(err.Error(), "was not contacted") {
				t.Fatalf("Complete of a receipt of %q = %v, want ErrUnknownLog", origin, err)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("the receipt's server got %d requests", n)
	}
}

// TestReceiptCompletedFromThePolicysURL: when the policy gives the log's URL,
// the certificate is fetched there, whatever server the receipt names.
func TestReceiptCompletedFromThePolicysURL(t *testing.T) {
	l := smallLog(t)
	honest := proofServer(t, l, func(int, *Certificate) {})
	elsewhere, requests := recorder(t)
	text := strings.Replace(l.policyText(), "log "+l.vkey+"\n", "log "+l.vkey+" "+honest.URL+"/logs/land\n", 1)
	p, err := log.ParsePolicy([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReceiptFor(l.cert(2, 5, testNow, 0, 1, 2), elsewhere.URL, "other-name")
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Source(p, nil)
	if err != nil || f.CertificateURL(2) != honest.URL+"/logs/land/proof/2" {
		t.Fatalf("Source = %+v, %v; want the policy's URL", f, err)
	}
	c, err := Complete(context.Background(), p, r, nil)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if s, err := Verify(p, c, testNow, time.Hour); err != nil || s.Index != 2 {
		t.Fatalf("Verify of the completed receipt: %+v, %v", s, err)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("the receipt's server got %d requests; the policy's URL should have been used", n)
	}
}

// FuzzParseReceipt checks that the parser never panics and accepts only
// canonical text: what it accepts re-encodes to the same bytes.
func FuzzParseReceipt(f *testing.F) {
	f.Add([]byte(goodReceipt))
	f.Add([]byte("http://[::1]:8080/logs/v-2/proof/0#tab1:a:b/c:" + goodReceipt[len(goodReceipt)-43:]))
	f.Add([]byte("https://h.example/proof/logs/logs/proof/proof/10#tab1:h.example/logs/proof/1:" + goodReceipt[len(goodReceipt)-43:]))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedReceipt) {
				t.Fatalf("refusal %v is not ErrMalformedReceipt", err)
			}
			return
		}
		re, err := r.Marshal()
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("accepted text is not canonical:\n%q\n%q", b, re)
		}
	})
}

// TestReceiptFitsAQRCode: the receipt of a real deployment (a long host name
// and origin, an index of a log of 10 million entries) stays under 200 bytes,
// a QR code of version 8 at error correction level M.
func TestReceiptFitsAQRCode(t *testing.T) {
	r := Receipt{Server: "https://land-registry.gov.example", Log: "land", Origin: "land-registry.gov.example/land", Index: 9_999_999}
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 200 {
		t.Errorf("receipt of %d bytes: %s", len(b), b)
	}
	t.Logf("%d bytes: %s", len(b), b)
}
