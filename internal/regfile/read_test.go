//go:build unix

package regfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(path("a.lua"), []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.lua", path("link.lua")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path("pipe.lua"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", path("zero.lua")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path("dir.lua"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop.lua", path("loop.lua")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path("max.lua"), bytes.Repeat([]byte("-"), MaxSize), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path("big.lua"), bytes.Repeat([]byte("-"), MaxSize+1), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"a.lua", "link.lua"} {
		if data, err := Read(path(name)); err != nil || string(data) != "print(1)\n" {
			t.Errorf("Read(%s) = %q, %v", name, data, err)
		}
	}
	if data, err := Read(path("max.lua")); err != nil || len(data) != MaxSize {
		t.Errorf("Read(max.lua) = %d bytes, %v; want %d", len(data), err, MaxSize)
	}
	for _, c := range []struct {
		name   string
		is     error
		reason string
	}{
		{"missing.lua", fs.ErrNotExist, "no such file or directory"},
		{"pipe.lua", ErrNotRegular, "not a regular file (a named pipe)"},
		{"zero.lua", ErrNotRegular, "not a regular file (a character device)"},
		{"dir.lua", ErrNotRegular, "not a regular file (a folder)"},
		{"big.lua", ErrTooLarge, "larger than 4 MiB"},
		{"loop.lua", syscall.ELOOP, "too many levels of symbolic links"},
	} {
		data, err := Read(path(c.name))
		if data != nil || !errors.Is(err, c.is) || Reason(err) != c.reason || !strings.Contains(err.Error(), path(c.name)) {
			t.Errorf("Read(%s) = %d bytes, %v (reason %q); want %v, %q", c.name, len(data), err, Reason(err), c.is, c.reason)
		}
	}
}
