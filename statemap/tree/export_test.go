package tree

// SetBeforeCommit makes f run before each update's commit; an error from it
// aborts the update. It returns a function that removes f.
func SetBeforeCommit(f func(v uint64) error) func() {
	testHookBeforeCommit = f
	return func() { testHookBeforeCommit = nil }
}
