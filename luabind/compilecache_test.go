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
	write(path, "2") // same size, at once: possibly the same time stamps
	load("2")
	entry().trusted = false // as it is for a file read right after a change
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

// TestStableStamp: a stamp identifies a file's content only when the file
// had not changed for racyWindow before it was read.
func TestStableStamp(t *testing.T) {
	readAt := time.Unix(1000, 0)
	at := func(d time.Duration) int64 { return readAt.Add(d).UnixNano() }
	for _, c := range []struct {
		mtime, ctime time.Duration
		want         bool
	}{
		{-time.Second, -time.Second, true},
		{-2 * racyWindow, -2 * racyWindow, true},
		{-racyWindow / 2, -racyWindow / 2, false},
		{-time.Hour, -racyWindow / 2, false}, // modification time set back, change time recent
		{0, 0, false},
		{time.Second, time.Second, false}, // a clock that went back
	} {
		if got := stable(fileStamp{mtime: at(c.mtime), ctime: at(c.ctime)}, readAt); got != c.want {
			t.Errorf("mtime %v ctime %v before the read: stable = %v, want %v", -c.mtime, -c.ctime, got, c.want)
		}
	}
}
