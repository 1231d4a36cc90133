package log_test

import (
	"fmt"

	"github.com/tabularium/tabularium/log"
	"golang.org/x/mod/sumdb/note"
)

func ExampleParseCheckpoint() {
	body := "example.com/log/testdata\n15\nrKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n"
	c, err := log.ParseCheckpoint([]byte(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Origin, c.Size)
	fmt.Println(string(c.Marshal()) == body)

	// A size with a leading zero is not canonical and is refused.
	_, err = log.ParseCheckpoint([]byte("example.com/log/testdata\n015\nrKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n"))
	fmt.Println(err)
	// Output:
	// example.com/log/testdata 15
	// true
	// malformed checkpoint: tree size "015" is not a canonical decimal
}

func ExampleOpenCheckpoint() {
	skey, vkey, err := log.GenerateKey("example.com/log")
	if err != nil {
		panic(err)
	}
	signer, err := log.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	c := log.Checkpoint{Origin: "example.com/log", Size: 0, Hash: log.EmptyRoot}
	msg, err := note.Sign(&note.Note{Text: string(c.Marshal())}, signer)
	if err != nil {
		panic(err)
	}

	verifier, err := log.NewVerifier(vkey)
	if err != nil {
		panic(err)
	}
	opened, n, err := log.OpenCheckpoint(msg, "example.com/log", verifier)
	if err != nil {
		panic(err)
	}
	fmt.Println(opened.Origin, opened.Size, opened.Hash == log.EmptyRoot)
	fmt.Println("signed by", n.Sigs[0].Name)

	_, _, err = log.OpenCheckpoint(msg, "example.com/other", verifier)
	fmt.Println(err)
	// Output:
	// example.com/log 0 true
	// signed by example.com/log
	// no valid signature from the log: origin "example.com/log", want "example.com/other"
}
