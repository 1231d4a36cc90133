package entry

import "errors"

// ErrMalformed means the bytes are not a well-formed, canonical entry. The
// submitter must rebuild the entry; over HTTP it is 400.
var ErrMalformed = errors.New("malformed entry")

// ErrBadSignature means a signature on the entry does not verify with the key it
// names. Over HTTP it is 403.
var ErrBadSignature = errors.New("bad signature")

// ErrTooLarge means the entry is over MaxSize. Over HTTP it is 413.
var ErrTooLarge = errors.New("entry too large")

// ErrTooManySignatures means the entry has more signatures than the reader
// accepts (see Decode); it is refused before any signature is verified. Over
// HTTP it is 400.
var ErrTooManySignatures = errors.New("too many signatures")

// MaxSize is the largest entry in bytes: tessera's entry bundles store lengths in
// 16 bits (c2sp.org/tlog-tiles), so 64 KiB less one.
const MaxSize = 1<<16 - 1
