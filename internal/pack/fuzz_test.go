package pack

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DecodeManifest never panics, and what it accepts is valid.
func FuzzDecodeManifest(f *testing.F) {
	f.Add([]byte(goodManifest))
	f.Add([]byte("name = \"x\"\nversion = \"1.0.0-rc.1+b\"\nagentd = \"^0.1 || >=2\"\nscripts = [\"a/b.lua\"]\n[requires]\ny = \"~1\"\n[config]\nk = [1, {a = 2}]\n[test]\ntimeout = \"1s\"\n"))
	f.Add([]byte("name = [\nversion = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeManifest("pack.toml", data)
		if err != nil {
			return
		}
		if !ValidName(m.Name) || m.Version == nil || len(m.Scripts) == 0 || m.Config == nil {
			t.Fatalf("accepted an invalid manifest: %+v", m)
		}
		for _, s := range m.Scripts {
			if p, problem := cleanRel(s); problem != "" || p != s || !strings.HasSuffix(s, ".lua") {
				t.Fatalf("accepted script %q", s)
			}
		}
	})
}

// unpack never panics and never writes outside its folder.
func FuzzUnpack(f *testing.F) {
	dir := writePack(f, f.TempDir(), "fuzz", "1.0.0", "", nil)
	var buf bytes.Buffer
	if _, err := Build(dir, &buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dst := filepath.Join(root, "dst")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = unpack(data, dst, small)
		entries, _ := os.ReadDir(root)
		if len(entries) != 1 {
			t.Fatalf("unpack wrote beside its folder: %v", entries)
		}
		filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !d.Type().IsRegular() {
				t.Fatalf("unpack made a non-regular file %s", p)
			}
			return nil
		})
	})
}
