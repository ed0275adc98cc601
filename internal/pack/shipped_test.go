package pack

import (
	"io"
	"path/filepath"
	"testing"
)

// The packs shipped in scripts/packs build, and their tests pass.
func TestShippedPacks(t *testing.T) {
	dirs, err := filepath.Glob("../../scripts/packs/*")
	if err != nil || len(dirs) < 2 {
		t.Fatalf("shipped packs: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			if _, err := Build(dir, io.Discard); err != nil {
				t.Fatal(err)
			}
			results, err := RunTests(dir, TestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(results) < 2 {
				t.Errorf("%d test files; each shipped pack has at least two", len(results))
			}
			for _, r := range results {
				if !r.Passed {
					t.Errorf("%s failed: %v\n%s", r.File, r.Problems, r.Output)
				}
			}
		})
	}
}
