package main

import (
	"errors"
	"fmt"
	"image"
	"image/color"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// scanQR finds and decodes the QR code in img with gozxing, a pure-Go port of
// ZXing. Its finder-pattern detector misses about one code in a hundred even in
// a perfect image (a run of data modules that looks like a finder pattern is
// taken for one), and a scanned receipt must not fail by chance, so several
// attempts are made, the most exact first:
//
//  1. the image as a pure barcode: one upright code of whole modules on a
//     light field, as tab qr writes it, read without any detection;
//  2. the detector, trying harder, on the image;
//  3. the detector on the image turned a quarter turn, which changes the order
//     in which it meets finder-like patterns;
//  4. the detector on the image at a half, two thirds and a third of its
//     size, while it keeps at least minScanSide pixels a side.
//
// The first text that decodes wins: a decoded text has passed the code's
// Reed–Solomon check, and tab verify checks the receipt against the log in
// any case. A panic of the decoder on a hostile image fails that attempt only.
func scanQR(img image.Image) (string, error) {
	g := grayOf(img)
	if text, err := decodeGray(g, pureHints); err == nil {
		return text, nil
	}
	text, first := decodeGray(g, detectHints)
	if first == nil {
		return text, nil
	}
	if text, err := decodeGray(quarterTurn(g), detectHints); err == nil {
		return text, nil
	}
	for _, f := range [][2]int{{1, 2}, {2, 3}, {1, 3}} {
		if min(g.Rect.Dx(), g.Rect.Dy())*f[0]/f[1] < minScanSide {
			continue
		}
		if text, err := decodeGray(rescale(g, f[0], f[1]), detectHints); err == nil {
			return text, nil
		}
	}
	return "", fmt.Errorf("no QR code found: %w", first)
}

// minScanSide is the smallest side of a rescaled image worth scanning: a
// version 1 code with its quiet zone is 29 modules, and the detector needs
// about 2 pixels a module.
const minScanSide = 58

var (
	pureHints   = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
	detectHints = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
)

// decodeGray makes one attempt at decoding a QR code in g.
func decodeGray(g *image.Gray, hints map[gozxing.DecodeHintType]any) (text string, err error) {
	defer func() {
		if p := recover(); p != nil {
			text, err = "", fmt.Errorf("QR decoder failed: %v", p)
		}
	}()
	if g.Rect.Dx() == 0 || g.Rect.Dy() == 0 {
		return "", errors.New("empty image")
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(g)
	if err != nil {
		return "", err
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// grayOf returns img as a gray image whose bounds start at (0, 0), with
// transparent pixels taken as white, as on paper.
func grayOf(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, gr, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			lum := (r + 2*gr + bl) / 4 // 0..0xffff, premultiplied by alpha
			g.Pix[y*g.Stride+x] = uint8((lum + 0xffff - a) >> 8)
		}
	}
	return g
}

// quarterTurn returns g turned 90° clockwise.
func quarterTurn(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	t := image.NewGray(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t.Pix[x*t.Stride+(h-1-y)] = g.Pix[y*g.Stride+x]
		}
	}
	return t
}

// rescale returns g scaled by num/den (at most 1), each new pixel the mean of
// the source pixels it covers, so that edges between modules stay gray
// rather than jagged.
func rescale(g *image.Gray, num, den int) *image.Gray {
	w, h := g.Rect.Dx()*num/den, g.Rect.Dy()*num/den
	s := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := y*den/num, max((y+1)*den/num, y*den/num+1)
		for x := 0; x < w; x++ {
			x0, x1 := x*den/num, max((x+1)*den/num, x*den/num+1)
			sum, n := 0, 0
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					sum += int(g.Pix[sy*g.Stride+sx])
					n++
				}
			}
			s.SetGray(x, y, color.Gray{uint8(sum / n)})
		}
	}
	return s
}
