package luabind

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
)

// TestCompileOncePerVersion loads a script again and again: an unchanged
// file is neither read nor compiled again once its stamp can be trusted,
// and every change is seen, even one made right after a read with the
// same size (when the stamp is not yet trusted), and a file replaced by
// a rename.
func TestCompileOncePerVersion(t *testing.T) {
	var out syncBuffer
	rt := runtime.New(runtime.Options{Logger: logging.Discard()})
	defer func() { _ = rt.Shutdown(context.Background()) }()
	h := NewHost(rt, Options{Stdout: &out})
	dir := t.TempDir()
	path := filepath.Join(dir, "v.lua")
	write := func(p, version string) {
		t.Helper()
		if err := os.WriteFile(p, []byte("print('version "+version+"')\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func(want string) {
		t.Helper()
		sc, err := h.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		sc.Stop()
		<-sc.Done()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if got := lines[len(lines)-1]; got != "version "+want {
			t.Fatalf("the script printed %q, want version %s", got, want)
		}
	}
	entry := func() *compiled {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.protos[path]
	}

	write(path, "1")
	load("1")
	if entry().trusted {
		t.Fatal("a file written just before it was read is trusted by its stamp")
	}
	write(path, "2") // same size, at once: possibly the same time stamps
	load("2")
	reads := h.fileReads.Load()
	load("2")
	if h.fileReads.Load() == reads {
		t.Fatal("an untrusted stamp did not make Load read the file again")
	}

	// As if the file had been read long after it was written.
	e := entry()
	e.trusted = stable(e.stamp, time.Unix(0, max(e.stamp.mtime, e.stamp.ctime)).Add(time.Second))
	if !e.trusted {
		t.Fatal("stable refuses a stamp a second old")
	}
	reads = h.fileReads.Load()
	for range 3 {
		load("2")
	}
	if n := h.fileReads.Load() - reads; n != 0 {
		t.Fatalf("an unchanged file with a trusted stamp was read %d times", n)
	}

	// A new change time, and here also a new size: the trust was forced
	// above, so the clock may not have moved since the last write.
	write(path, "three")
	load("three")
	if h.fileReads.Load() == reads {
		t.Fatal("a changed file was not read")
	}

	e = entry()
	e.trusted = true
	tmp := filepath.Join(dir, "v.tmp")
	write(tmp, "4")
	if err := os.Rename(tmp, path); err != nil { // a new inode, as editors save
		t.Fatal(err)
	}
	load("4")
}
