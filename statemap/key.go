package statemap

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Key is a position in the map: the path from the root to a leaf, bit 0 being
// the most significant bit of byte 0.
type Key [32]byte

// DocHashSize is the size of the document hash that addresses a credential.
const DocHashSize = 32

// ErrObjectID is returned for an object id that is not family/name with a known
// family and the characters entries allow. Callers must refuse the request.
var ErrObjectID = errors.New("not an object id")

// ErrDocHash is returned when the document hash does not fit the object's
// family: a credential (diploma/, vaccination/) needs its 32-byte document hash,
// a public object (land/, role/, key/, batch/) takes none.
var ErrDocHash = errors.New("wrong document hash for the object")

// Domain-separation prefixes of map keys.
// SPEC(state-map): K = H("tabularium/statemap/v1 key" || 0x00 || id) and
// K = H("tabularium/statemap/v1 credential" || 0x00 || id || 0x00 || d).
const (
	publicKeyLabel     = "tabularium/statemap/v1 key"
	credentialKeyLabel = "tabularium/statemap/v1 credential"
)

// objectID is the object id grammar of entries (personality/entry), repeated
// here because the map sits below the personality.
var objectID = regexp.MustCompile(`^(land|diploma|vaccination|batch|role|key)/[A-Za-z0-9._:/-]{1,200}$`)

// IsCredential reports whether id names a credential, whose map key needs the
// credential's document hash: a diploma or a vaccination certificate.
func IsCredential(id string) bool {
	return strings.HasPrefix(id, "diploma/") || strings.HasPrefix(id, "vaccination/")
}

// ObjectKey returns the map key of an object. doc is the document hash of a
// credential (the record commitment of a diploma, the contents commitment of a
// vaccination certificate) and must be empty for a public object.
func ObjectKey(id string, doc []byte) (Key, error) {
	if !objectID.MatchString(id) {
		return Key{}, fmt.Errorf("%w: %q must be family/name (land, diploma, vaccination, batch, role or key) with letters, digits and ._:/-", ErrObjectID, id)
	}
	h := sha256.New()
	if !IsCredential(id) {
		if len(doc) != 0 {
			return Key{}, fmt.Errorf("%w: %s is a public object and is looked up by id alone; leave the document hash out", ErrDocHash, id)
		}
		h.Write([]byte(publicKeyLabel))
		h.Write([]byte{0})
		h.Write([]byte(id))
	} else {
		if len(doc) != DocHashSize {
			return Key{}, fmt.Errorf("%w: %s is a credential and is looked up with the %d-byte hash of its document, which its certificate carries; got %d bytes", ErrDocHash, id, DocHashSize, len(doc))
		}
		h.Write([]byte(credentialKeyLabel))
		h.Write([]byte{0})
		h.Write([]byte(id))
		h.Write([]byte{0})
		h.Write(doc)
	}
	var k Key
	h.Sum(k[:0])
	return k, nil
}

// Bit returns bit i of the key (0 or 1); i = 0 is the most significant bit of
// byte 0. It chooses the child at depth i+1: 0 left, 1 right.
func (k Key) Bit(i int) int {
	return int(k[i/8]>>(7-i%8)) & 1
}
