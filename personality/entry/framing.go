package entry

import "bytes"

// countSignatures reads the number of signatures of a COSE_Sign_Tagged
// message from its CBOR framing alone (RFC 9052 §4.1: tag 98, then the array
// [protected, unprotected, payload, signatures]), without decoding any
// header. ok is false if raw is not framed as the only form Parse accepts
// (a byte-string protected header, the empty unprotected map, a byte-string
// payload, a definite-length signature array); Parse then refuses it itself.
func countSignatures(raw []byte) (n uint64, ok bool) {
	b, found := bytes.CutPrefix(raw, []byte{0xd8, 0x62, 0x84})
	if !found {
		return 0, false
	}
	if b, ok = skipString(b); !ok { // protected
		return 0, false
	}
	if b, found = bytes.CutPrefix(b, []byte{0xa0}); !found { // unprotected: {}
		return 0, false
	}
	if b, ok = skipString(b); !ok { // payload
		return 0, false
	}
	n, _, ok = head(b, 4)
	return n, ok
}

// head decodes the head of a CBOR data item of the given major type with a
// definite argument (RFC 8949 §3), returning the argument and the rest.
func head(b []byte, major byte) (uint64, []byte, bool) {
	if len(b) == 0 || b[0]>>5 != major {
		return 0, nil, false
	}
	info := b[0] & 0x1f
	if info < 24 {
		return uint64(info), b[1:], true
	}
	if info > 27 {
		return 0, nil, false // reserved, or indefinite length
	}
	size := 1 << (info - 24)
	if len(b) < 1+size {
		return 0, nil, false
	}
	var v uint64
	for _, c := range b[1 : 1+size] {
		v = v<<8 | uint64(c)
	}
	return v, b[1+size:], true
}

// skipString skips a definite-length byte string.
func skipString(b []byte) ([]byte, bool) {
	n, rest, ok := head(b, 2)
	if !ok || n > uint64(len(rest)) {
		return nil, false
	}
	return rest[n:], true
}
