package client_test

import (
	"errors"
	"fmt"

	"github.com/tabularium/tabularium/client"
)

func ExampleParseProof() {
	text := "c2sp.org/tlog-proof@v1\n" +
		"index 0\n" +
		"\n" +
		"example.com/log\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n" +
		"\n— example.com/log AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	p, err := client.ParseProof([]byte(text))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Index, len(p.Hashes), string(p.Marshal()) == text)

	// A proof without extra data carries no entry, so it is no certificate.
	_, err = client.FromProof(p)
	fmt.Println(errors.Is(err, client.ErrMalformedCertificate))
	// Output:
	// 0 0 true
	// true
}
