package log

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// testHash is the canonical base64 of 32 bytes 0x00..0x1f.
var testHash = func() string {
	var h [32]byte
	for i := range h {
		h[i] = byte(i)
	}
	return base64.StdEncoding.EncodeToString(h[:])
}()

func TestParseCheckpointAccepts(t *testing.T) {
	tests := []struct {
		name, text string
		size       uint64
		ext        string
	}{
		{"minimal", "example.com/log\n15\n" + testHash + "\n", 15, ""},
		{"size zero", "example.com/log\n0\n" + testHash + "\n", 0, ""},
		{"max size", "example.com/log\n9223372036854775807\n" + testHash + "\n", MaxTreeSize, ""},
		{"one extension line", "example.com/log\n1\n" + testHash + "\nextra\n", 1, "extra\n"},
		{"two extension lines", "example.com/log\n1\n" + testHash + "\na b\nc\n", 1, "a b\nc\n"},
		{"unicode origin", "exämple.com/lög\n7\n" + testHash + "\n", 7, ""},
		{"spaces in origin", "my log\n7\n" + testHash + "\n", 7, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCheckpoint([]byte(tt.text))
			if err != nil {
				t.Fatalf("ParseCheckpoint: %v", err)
			}
			if want := strings.SplitN(tt.text, "\n", 2)[0]; c.Origin != want {
				t.Errorf("Origin = %q, want %q", c.Origin, want)
			}
			if c.Size != tt.size {
				t.Errorf("Size = %d, want %d", c.Size, tt.size)
			}
			if got := base64.StdEncoding.EncodeToString(c.Hash[:]); got != testHash {
				t.Errorf("Hash = %s, want %s", got, testHash)
			}
			if c.Extension != tt.ext {
				t.Errorf("Extension = %q, want %q", c.Extension, tt.ext)
			}
			if got := c.Marshal(); !bytes.Equal(got, []byte(tt.text)) {
				t.Errorf("Marshal(Parse(x)) = %q, want %q", got, tt.text)
			}
		})
	}
}

func TestParseCheckpointRefuses(t *testing.T) {
	// A hash whose last base64 digit carries non-zero padding bits: it decodes to the
	// same 32 bytes as testHash under a lenient decoder.
	badPadding := testHash[:42] + string(testHash[42]+1) + "="
	hash31 := base64.StdEncoding.EncodeToString(make([]byte, 31))
	hash33 := base64.StdEncoding.EncodeToString(make([]byte, 33))
	long := "example.com/log\n1\n" + testHash + "\n" + strings.Repeat("x", MaxCheckpointSize) + "\n"
	tests := []struct{ name, text string }{
		{"empty", ""},
		{"missing final newline", "example.com/log\n1\n" + testHash},
		{"two lines", "example.com/log\n1\n"},
		{"one line", "example.com/log\n"},
		{"empty origin", "\n1\n" + testHash + "\n"},
		{"empty extension line", "example.com/log\n1\n" + testHash + "\n\n"},
		{"empty line between extensions", "example.com/log\n1\n" + testHash + "\na\n\nb\n"},
		{"empty size", "example.com/log\n\n" + testHash + "\n"},
		{"leading zero", "example.com/log\n05\n" + testHash + "\n"},
		{"double zero", "example.com/log\n00\n" + testHash + "\n"},
		{"plus sign", "example.com/log\n+5\n" + testHash + "\n"},
		{"minus sign", "example.com/log\n-5\n" + testHash + "\n"},
		{"space before size", "example.com/log\n 5\n" + testHash + "\n"},
		{"space after size", "example.com/log\n5 \n" + testHash + "\n"},
		{"hex size", "example.com/log\n0x5\n" + testHash + "\n"},
		{"underscore size", "example.com/log\n1_000\n" + testHash + "\n"},
		{"size above MaxTreeSize", "example.com/log\n9223372036854775808\n" + testHash + "\n"},
		{"size at uint64 max", "example.com/log\n18446744073709551615\n" + testHash + "\n"},
		{"size overflows uint64", "example.com/log\n18446744073709551616\n" + testHash + "\n"},
		{"size far too large", "example.com/log\n" + strings.Repeat("9", 40) + "\n" + testHash + "\n"},
		{"non-canonical padding bits", "example.com/log\n1\n" + badPadding + "\n"},
		{"missing padding", "example.com/log\n1\n" + strings.TrimSuffix(testHash, "=") + "\n"},
		{"url-safe base64", "example.com/log\n1\n" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) + "\n"},
		{"31-byte hash", "example.com/log\n1\n" + hash31 + "\n"},
		{"33-byte hash", "example.com/log\n1\n" + hash33 + "\n"},
		{"empty hash", "example.com/log\n1\n\n"},
		{"space in hash", "example.com/log\n1\n " + testHash + "\n"},
		{"CRLF line ends", "example.com/log\r\n1\r\n" + testHash + "\r\n"},
		{"CR in origin", "example.com\rlog\n1\n" + testHash + "\n"},
		{"CR in extension", "example.com/log\n1\n" + testHash + "\next\r\n"},
		{"NUL in origin", "example.com/\x00log\n1\n" + testHash + "\n"},
		{"tab in origin", "example.com/\tlog\n1\n" + testHash + "\n"},
		{"escape in extension", "example.com/log\n1\n" + testHash + "\n\x1b[31m\n"},
		{"DEL in origin", "example.com/\x7flog\n1\n" + testHash + "\n"},
		{"non-UTF-8 origin", "example.com/\xfflog\n1\n" + testHash + "\n"},
		{"non-UTF-8 extension", "example.com/log\n1\n" + testHash + "\n\xc3\x28\n"},
		{"over MaxCheckpointSize", long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCheckpoint([]byte(tt.text))
			if err == nil {
				t.Fatalf("ParseCheckpoint(%q) = %+v, want an error", tt.text, c)
			}
			if !errors.Is(err, ErrMalformedCheckpoint) {
				t.Errorf("error %v does not wrap ErrMalformedCheckpoint", err)
			}
		})
	}
}

func TestParseCheckpointSizeLimit(t *testing.T) {
	head := "example.com/log\n1\n" + testHash + "\n"
	pad := func(n int) string {
		ext := strings.Repeat("x", n-len(head)-1) + "\n"
		return head + ext
	}
	if _, err := ParseCheckpoint([]byte(pad(MaxCheckpointSize))); err != nil {
		t.Errorf("checkpoint of exactly MaxCheckpointSize bytes refused: %v", err)
	}
	if _, err := ParseCheckpoint([]byte(pad(MaxCheckpointSize + 1))); err == nil {
		t.Errorf("checkpoint of MaxCheckpointSize+1 bytes accepted")
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("example.com/log\n15\n" + testHash + "\n"))
	f.Add([]byte("example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Add([]byte("example.com/log\n1\n" + testHash + "\next\nmore\n"))
	f.Add([]byte("example.com/log\n05\n" + testHash + "\n"))
	f.Add([]byte("example.com/log\n18446744073709551616\n" + testHash + "\n"))
	f.Add([]byte("a\n1\n" + testHash[:42] + "B=\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			if !errors.Is(err, ErrMalformedCheckpoint) {
				t.Fatalf("error %v does not wrap ErrMalformedCheckpoint", err)
			}
			return
		}
		if got := c.Marshal(); !bytes.Equal(got, text) {
			t.Fatalf("Marshal(Parse(%q)) = %q", text, got)
		}
		if c.Size > MaxTreeSize {
			t.Fatalf("accepted size %d above MaxTreeSize", c.Size)
		}
		c2, err := ParseCheckpoint(c.Marshal())
		if err != nil || c2 != c {
			t.Fatalf("re-parse: %+v, %v; want %+v", c2, err, c)
		}
	})
}
