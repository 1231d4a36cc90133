package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabularium/tabularium/client"
)

// randomReceipt returns the text of a receipt with a random server, log,
// origin, index and entry hash: mostly of a real deployment's length (about
// 110 to 160 bytes), and one in ten much longer.
func randomReceipt(t *testing.T, rng *rand.Rand) []byte {
	t.Helper()
	word := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const lower = "abcdefghijklmnopqrstuvwxyz0123456789"
	long := rng.IntN(10) == 0
	r := client.Receipt{Log: word(lower, 1+rng.IntN(12)), Index: rng.Uint64N(1 << (4 * (1 + rng.IntN(15))))}
	switch rng.IntN(3) {
	case 0:
		r.Server = fmt.Sprintf("http://127.0.0.1:%d", 1024+rng.IntN(64000))
	case 1:
		r.Server = "https://" + word(lower, 2+rng.IntN(10)) + ".registry.example"
	default:
		r.Server = "https://" + word(lower, 3+rng.IntN(20)) + "." + word(lower, 2+rng.IntN(4)) + "/" + word(lower, 1+rng.IntN(8))
	}
	r.Origin = word(lower, 4+rng.IntN(16)) + ".example/" + r.Log
	if long {
		r.Server += "/" + word(lower+"-._~", 20+rng.IntN(60))
		r.Origin += "/" + word(lower+"ABCDEFGHIJKLMNOPQRSTUVWXYZ._~/:-", 20+rng.IntN(150))
	}
	for i := range r.EntryHash {
		r.EntryHash[i] = byte(rng.UintN(256))
	}
	text, err := r.Marshal()
	if err != nil {
		t.Fatalf("receipt %+v: %v", r, err)
	}
	return text
}

// TestEveryRandomReceiptScans encodes thousands of random receipts as tab qr
// does and reads each back as tab verify does, from the PNG's bytes: not one
// may fail. Every tenth image is also resampled at a scale that is not a whole
// number of pixels a module (a screenshot, a resized picture), inside a wider
// margin, and must still read back. gozxing's detector alone misses about one
// code in a hundred of these images. Under the race detector (nothing here is
// concurrent, and it runs 25 times slower) and with -short it reads 200; CI
// runs it in full without the race detector.
func TestEveryRandomReceiptScans(t *testing.T) {
	n := 3000
	if testing.Short() || raceEnabled {
		n = 200
	}
	rng := rand.New(rand.NewPCG(11, 2026))
	scales := []float64{0.37, 0.5, 0.61, 0.83, 1.3}
	start := time.Now()
	failed, resampled := 0, 0
	versions := map[int]int{}
	for i := range n {
		text := randomReceipt(t, rng)
		b, version, err := encodeQR(text)
		if err != nil {
			t.Fatal(err)
		}
		versions[version]++
		if got, err := decodeQR(b); err != nil || got != string(text) {
			failed++
			t.Errorf("receipt %d (QR version %d): read back %q, %v; want %q", i, version, got, err, text)
		}
		if i%10 != 0 {
			continue
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		f := scales[(i/10)%len(scales)]
		resampled++
		if got, err := scanQR(resample(img, f, 11)); err != nil || got != string(text) {
			failed++
			t.Errorf("receipt %d (QR version %d) resampled ×%v: read back %q, %v; want %q", i, version, f, got, err, text)
		}
	}
	t.Logf("%d receipts (QR versions: %v) and %d resampled images in %v: %d not read back", n, versions, resampled, time.Since(start).Round(time.Millisecond), failed)
}

// TestReceiptQRCodesReadByZbar: the PNGs of random receipts are read to the
// same text by zbar, a QR decoder independent of both the encoder and gozxing.
// It runs where zbarimg is installed, and CI requires it.
func TestReceiptQRCodesReadByZbar(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zbarimg is not installed; CI installs it (Debian's zbar-tools)")
		}
		t.Skip("zbarimg is not installed (Debian's zbar-tools)")
	}
	n := 400
	if testing.Short() || raceEnabled {
		n = 40
	}
	rng := rand.New(rand.NewPCG(12, 2026))
	dir := t.TempDir()
	var files, want []string
	for i := range n {
		text := randomReceipt(t, rng)
		b, _, err := encodeQR(text)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("%04d.png", i))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files, want = append(files, f), append(want, string(text))
	}
	// One zbarimg for all the files: --raw prints each code's text on a line,
	// in the order of the files.
	var stderr bytes.Buffer
	cmd := exec.Command(zbar, append([]string{"--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"}, files...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("zbarimg: %v\n%s", err, stderr.Bytes())
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("zbarimg read %d codes of %d; code %d (%s) reads %q, want %q", len(got), n, i, files[i], at(got, i), want[i])
		}
	}
	if len(got) != n {
		t.Fatalf("zbarimg read %d codes of %d", len(got), n)
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// TestScanQRRefusesWhatIsNoCode: an image without a QR code, and a code cut
// in half, are refused with a reason; neither panics.
func TestScanQRRefusesWhatIsNoCode(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range blank.Pix {
		blank.Pix[i] = 0xff
	}
	b, _, err := encodeQR([]byte("https://land.registry.example/logs/land/proof/1#tab1:tabularium.local/land:x2wo-tbrGjfWQkuaXwGHMIkSu82VmAr5R2Fn-Rt7gcc"))
	if err != nil {
		t.Fatal(err)
	}
	img, _ := png.Decode(bytes.NewReader(b))
	half := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()/2))
	for name, img := range map[string]image.Image{"blank": blank, "half a code": half, "empty": image.NewGray(image.Rect(0, 0, 0, 0))} {
		if text, err := scanQR(img); err == nil || !strings.HasPrefix(err.Error(), "no QR code found") {
			t.Errorf("%s: %q, %v", name, text, err)
		}
	}
}

// resample returns img scaled by f with bilinear interpolation, as a gray
// image inside a white margin of margin pixels.
func resample(img image.Image, f float64, margin int) *image.Gray {
	src := grayOf(img)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	w, h := int(float64(sw)*f), int(float64(sh)*f)
	out := image.NewGray(image.Rect(0, 0, w+2*margin, h+2*margin))
	for i := range out.Pix {
		out.Pix[i] = 0xff
	}
	px := func(x, y int) float64 {
		return float64(src.Pix[min(max(y, 0), sh-1)*src.Stride+min(max(x, 0), sw-1)])
	}
	for y := range h {
		for x := range w {
			sx, sy := (float64(x)+0.5)/f-0.5, (float64(y)+0.5)/f-0.5
			x0, y0 := int(sx), int(sy)
			if sx < 0 {
				x0 = -1
			}
			if sy < 0 {
				y0 = -1
			}
			dx, dy := sx-float64(x0), sy-float64(y0)
			v := px(x0, y0)*(1-dx)*(1-dy) + px(x0+1, y0)*dx*(1-dy) + px(x0, y0+1)*(1-dx)*dy + px(x0+1, y0+1)*dx*dy
			out.Pix[(y+margin)*out.Stride+x+margin] = uint8(v + 0.5)
		}
	}
	return out
}

// FuzzDecodeQR gives tab verify's PNG reader arbitrary bytes, seeded with a
// receipt's QR code: it returns a text or an error, and never panics.
func FuzzDecodeQR(f *testing.F) {
	b, _, err := encodeQR([]byte("https://land.registry.example/logs/land/proof/1#tab1:tabularium.local/land:x2wo-tbrGjfWQkuaXwGHMIkSu82VmAr5R2Fn-Rt7gcc"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(pngMagic)
	f.Fuzz(func(t *testing.T, b []byte) {
		if text, err := decodeQR(b); err == nil && text == "" {
			t.Skip("an empty code")
		}
	})
}
