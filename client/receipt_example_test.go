package client_test

import (
	"fmt"

	"github.com/tabularium/tabularium/client"
)

func ExampleParseReceipt() {
	text := "https://registry.example/logs/land/proof/42#tab1:registry.example/land:" +
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	r, err := client.ParseReceipt([]byte(text))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Origin, r.Index, r.Log)
	fmt.Println(r.URL())
	fmt.Printf("%x\n", r.EntryHash[:4])
	// Output:
	// registry.example/land 42 land
	// https://registry.example/logs/land/proof/42
	// 00010203
}
