package statemap_test

import (
	"fmt"

	"github.com/tabularium/tabularium/statemap"
)

func Example() {
	// A map holding one parcel. With one leaf every sibling is empty, so the
	// proof is the bare bitmap.
	parcel, _ := statemap.ObjectKey("land/01:01:0001", nil)
	record := []byte("owner A, 1/1")
	var siblings [statemap.Depth][statemap.HashSize]byte
	for d := 1; d <= statemap.Depth; d++ {
		siblings[d-1] = statemap.EmptyHash(d)
	}
	proof := statemap.NewProof(&siblings)
	root := proof.Root(parcel, record)
	fmt.Println(len(proof.Marshal()), "bytes")

	p, err := statemap.ParseProof(proof.Marshal())
	if err != nil {
		panic(err)
	}
	fmt.Println("present:", p.Verify(root, parcel, record) == nil)
	fmt.Println("absent:", p.Verify(root, parcel, nil) == nil)
	fmt.Println("other record:", p.Verify(root, parcel, []byte("owner B, 1/1")) == nil)

	// A diploma is addressed only with the hash of its document.
	_, err = statemap.ObjectKey("diploma/0c72a834fd066540731e35f2bfcbd08bf0f54c9eecc5e856793b92f096833567", nil)
	fmt.Println(err)
	// Output:
	// 32 bytes
	// present: true
	// absent: false
	// other record: false
	// wrong document hash for the object: diploma/0c72a834fd066540731e35f2bfcbd08bf0f54c9eecc5e856793b92f096833567 is a credential and is looked up with the 32-byte hash of its document, which its certificate carries; got 0 bytes
}

func ExampleParseEntry() {
	e, err := statemap.ParseEntry([]byte("tabularium.state/v1\n" +
		"registry.example.gov/land\n" +
		"42\n" +
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" +
		"rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n" +
		"17\n"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s at size %d: %d objects, map root %x...\n", e.Origin, e.Size, e.Objects, e.Root[:4])

	_, err = statemap.ParseEntry([]byte("tabularium.state/v1\nregistry.example.gov/land\n042\n"))
	fmt.Println(err)
	// Output:
	// registry.example.gov/land at size 42: 17 objects, map root aca6c38a...
	// malformed map entry: want 6 lines, got 3
}
