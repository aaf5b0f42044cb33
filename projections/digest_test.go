package projections

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// Digest returns a digest of every key and value of the views, the number
// of keys, and the sequence the dump holds (for tests of this package and
// its external tests).
func Digest(t testing.TB, v *Views) (string, int, uint64) {
	t.Helper()
	h := sha256.New()
	n := 0
	seq, err := v.Dump(func(k, val []byte) error {
		n++
		fmt.Fprintf(h, "%d:%s=%d:", len(k), k, len(val))
		h.Write(val)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), n, seq
}
