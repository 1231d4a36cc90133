package storetest_test

import (
	"testing"

	"github.com/tabularium/tabularium/witness"
	"github.com/tabularium/tabularium/witness/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() witness.Store {
		s := witness.NewMemoryStore()
		return func() witness.Store { return s }
	})
}
