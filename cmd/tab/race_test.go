//go:build race

package main

// raceEnabled says that the tests run under the race detector, which makes
// pure computation about 25 times slower.
const raceEnabled = true
