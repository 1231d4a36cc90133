package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/skip2/go-qrcode"

	"github.com/tabularium/tabularium/client"
)

// Limits on a PNG given to tab verify, checked before it is decoded.
const (
	maxPNGSize = 8 << 20
	maxPNGSide = 4096
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// runQR writes the QR code of a receipt as a PNG and prints the receipt.
func runQR(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("qr", stderr)
	out := fs.String("out", "", "PNG file to write")
	server := fs.String("server", "", "the log server's base URL, where the receipt is completed (required for a CERT)")
	logName := fs.String("log", "", "the log's name (land) or origin (tabularium.local/land) on the server (required for a CERT)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(pos) != 1 {
		return errors.New("qr needs --out FILE.png and one CERT or RECEIPT")
	}
	c, r, err := readEvidence(pos[0])
	if err != nil {
		return err
	}
	if *logName != "" && !isLogName(*logName) {
		// A receipt names the log by its name on the server: an origin is
		// looked up there.
		at := *server
		if at == "" && r != nil {
			at = r.Server
		}
		if at == "" {
			return errors.New("qr --log with a log's origin needs --server URL, where its name is looked up")
		}
		if *logName, err = logNameOn(ctx, httpClient, at, *logName); err != nil {
			return err
		}
	}
	if c != nil {
		if *server == "" || *logName == "" {
			return errors.New("qr of a certificate needs --server URL and --log LOG: the receipt says where to fetch it")
		}
		if r, err = client.ReceiptFor(c, *server, *logName); err != nil {
			return err
		}
	}
	if *server != "" {
		r.Server = strings.TrimRight(*server, "/")
	}
	if *logName != "" {
		r.Log = *logName
	}
	text, err := r.Marshal()
	if err != nil {
		return err
	}
	img, version, err := encodeQR(text)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, img, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", text)
	fmt.Fprintf(stderr, "wrote %s: a %d-byte receipt as a QR code of version %d, error correction M; check it with tab verify --policy POLICY %s\n",
		*out, len(text), version, *out)
	return nil
}

// qrModulePixels is the side of a QR module in the PNG tab qr writes.
const qrModulePixels = 8

// encodeQR returns the PNG of a QR code of text and the code's version:
// error correction level M (15% of the code may be lost), black modules of
// qrModulePixels on white, with the standard quiet zone of 4 modules, as a
// two-colour image.
func encodeQR(text []byte) ([]byte, int, error) {
	q, err := qrcode.New(string(text), qrcode.Medium)
	if err != nil {
		return nil, 0, fmt.Errorf("QR code: %w", err)
	}
	modules := q.Bitmap() // with the quiet zone
	side := len(modules) * qrModulePixels
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.Gray{0xff}, color.Gray{0}})
	for y := range side {
		row := modules[y/qrModulePixels]
		for x := range side {
			if row[x/qrModulePixels] {
				img.Pix[y*img.Stride+x] = 1
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, 0, fmt.Errorf("QR code: %w", err)
	}
	return b.Bytes(), q.VersionNumber, nil
}

// readEvidence reads what a citizen was handed: a receipt given as the
// argument itself, or a file holding a certificate, a receipt (one line), or
// a PNG image of a receipt's QR code. Exactly one of the results is not nil.
func readEvidence(arg string) (*client.Certificate, *client.Receipt, error) {
	if strings.HasPrefix(arg, "https://") || strings.HasPrefix(arg, "http://") {
		r, err := client.ParseReceipt([]byte(arg))
		return nil, r, err
	}
	b, err := readLimited(arg, max(client.MaxProofSize, maxPNGSize))
	if err != nil {
		return nil, nil, err
	}
	switch {
	case bytes.HasPrefix(b, []byte(client.ProofHeader+"\n")):
		c, err := client.ParseCertificate(b)
		return c, nil, err
	case bytes.HasPrefix(b, pngMagic):
		text, err := decodeQR(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", arg, err)
		}
		r, err := client.ParseReceipt([]byte(text))
		return nil, r, err
	}
	if len(b) > client.MaxReceiptSize+1 {
		return nil, nil, fmt.Errorf("%s is neither a certificate, a receipt nor a PNG image", arg)
	}
	r, err := client.ParseReceipt(bytes.TrimSuffix(b, []byte("\n")))
	return nil, r, err
}

// decodeQR returns the text of the QR code in a PNG image.
func decodeQR(b []byte) (string, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("PNG: %w", err)
	}
	if cfg.Width > maxPNGSide || cfg.Height > maxPNGSide {
		return "", fmt.Errorf("PNG of %d×%d pixels, limit %d×%d", cfg.Width, cfg.Height, maxPNGSide, maxPNGSide)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("PNG: %w", err)
	}
	return scanQR(img)
}
