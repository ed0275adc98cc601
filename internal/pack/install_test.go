package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writePack makes a pack folder with a manifest, one agent and a passing
// test, plus the extra files given.
func writePack(t testing.TB, dir, name, version, extraManifest string, extra map[string]string) string {
	t.Helper()
	files := map[string]string{
		"pack.toml": fmt.Sprintf("name = %q\nversion = %q\ndescription = \"the %s pack\"\nscripts = [\"main.lua\"]\n%s", name, version, name, extraManifest),
		"main.lua":  "local s = agentd.service(\"" + name + "\")\nfunction s:version() return \"" + version + "\" end\ns:exportMethod(\"version\")\n",
		"test/main_test.lua": "local test = require(\"agentd.test\")\nlocal t = agentd.service()\n" +
			"function t:init() test.equal(self:call(\"" + name + "\", \"version\"), \"" + version + "\") test.done() end\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// buildArchive builds the pack folder dir into a file and returns its path.
func buildArchive(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pack.tar.gz")
	if _, _, err := BuildFile(dir, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// small are the limits of the tests: small files keep them fast.
var small = sizeLimits{files: 20, file: 64 << 10, pack: 256 << 10, archive: 256 << 10}

func opts(packs string) InstallOptions {
	return InstallOptions{PacksDir: packs, AgentdVersion: "0.1.0", limits: &small}
}

// leftovers lists what packs holds besides the lock and the given packs.
func leftovers(t *testing.T, packs string, keep ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(packs)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != ".lock" && !slices.Contains(keep, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// entry is one entry of a hand-made archive.
type entry struct {
	hdr  tar.Header
	body string
}

func file(name, body string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))}, body: body}
}

// sums is the SHA256SUMS entry for the regular entries given.
func sums(es ...entry) entry {
	var b strings.Builder
	for _, e := range es {
		if e.hdr.Typeflag == tar.TypeReg {
			fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256([]byte(e.body)), e.hdr.Name)
		}
	}
	return file(SumsName, b.String())
}

// makeArchive writes entries as a .tar.gz, with trailing bytes appended to
// the tar stream before compression.
func makeArchive(t *testing.T, es []entry, trailing io.Reader) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range es {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if trailing != nil {
		if _, err := io.Copy(zw, trailing); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const goodManifest = "name = \"evil\"\nversion = \"1.0.0\"\nscripts = [\"main.lua\"]\n"

// Unsafe or damaged archives are refused, naming the entry, and leave
// nothing behind.
func TestInstallRefusesBadArchives(t *testing.T) {
	good := []entry{file("pack.toml", goodManifest), file("main.lua", "agentd.service('evil')\n")}
	withSums := func(es ...entry) []entry {
		return append([]entry{sums(append(slices.Clone(good), es...)...)}, append(slices.Clone(good), es...)...)
	}
	link := func(kind byte, name, target string) entry {
		return entry{hdr: tar.Header{Typeflag: kind, Name: name, Linkname: target, Mode: 0o777}}
	}
	special := func(kind byte, name string) entry {
		return entry{hdr: tar.Header{Typeflag: kind, Name: name, Mode: 0o644, Devmajor: 1, Devminor: 3}}
	}
	valid := makeArchive(t, withSums(), nil)
	big := strings.Repeat("x", int(small.file)+1)
	var wrongSum []entry
	for _, e := range withSums() {
		if e.hdr.Name == "main.lua" {
			e = file("main.lua", "agentd.service('other')\n")
		}
		wrongSum = append(wrongSum, e)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"traversal", makeArchive(t, withSums(file("../evil.lua", "x")), nil), `entry "../evil.lua": the path leads out of the pack ("..")`},
		{"inner traversal", makeArchive(t, withSums(file("lib/../../evil.lua", "x")), nil), `entry "lib/../../evil.lua": the path leads out of the pack`},
		{"absolute", makeArchive(t, withSums(file("/tmp/evil.lua", "x")), nil), `entry "/tmp/evil.lua": absolute path`},
		{"symlink", makeArchive(t, withSums(link(tar.TypeSymlink, "lib/x.lua", "/etc/passwd")), nil), `entry "lib/x.lua": is a symbolic link (to /etc/passwd)`},
		{"hard link", makeArchive(t, withSums(link(tar.TypeLink, "lib/x.lua", "main.lua")), nil), `entry "lib/x.lua": is a hard link (to main.lua)`},
		{"char device", makeArchive(t, withSums(special(tar.TypeChar, "null")), nil), `entry "null": is a device file`},
		{"block device", makeArchive(t, withSums(special(tar.TypeBlock, "sda")), nil), `entry "sda": is a device file`},
		{"fifo", makeArchive(t, withSums(special(tar.TypeFifo, "pipe")), nil), `entry "pipe": is a FIFO`},
		{"hidden", makeArchive(t, withSums(file(".git/config", "x")), nil), `entry ".git/config": hidden files and folders are not part of a pack`},
		{"duplicate", makeArchive(t, append(withSums(), file("main.lua", "x")), nil), `entry "main.lua": appears twice`},
		{"bad checksum", makeArchive(t, wrongSum, nil), `entry "main.lua": checksum mismatch`},
		{"unlisted file", makeArchive(t, append(withSums(), file("extra.lua", "x")), nil), `entry "extra.lua": not listed in SHA256SUMS`},
		{"listed but missing", makeArchive(t, append([]entry{sums(append(slices.Clone(good), file("gone.lua", "x"))...)}, good...), nil), `entry "gone.lua": listed in SHA256SUMS but not in the archive`},
		{"no checksums", makeArchive(t, good, nil), `entry "SHA256SUMS": missing`},
		{"oversized entry", makeArchive(t, withSums(file("big.lua", big)), nil), fmt.Sprintf(`entry "big.lua": is %d bytes; a file of a pack has at most %d`, small.file+1, small.file)},
		{"too much in all", makeArchive(t, withSums(
			file("a", big[:small.file]), file("b", big[:small.file]), file("c", big[:small.file]), file("d", big[:small.file]),
			file("e", big[:small.file])), nil), `entry "d": the files add up to more than`},
		{"too many files", makeArchive(t, withSums(manyFiles(small.files)...), nil), "more than 20 files"},
		{"decompression bomb", makeArchive(t, withSums(), io.LimitReader(zeros{}, 2*small.stream())), "the archive expands to more than"},
		{"truncated", valid[:len(valid)/2], "truncated archive"},
		{"truncated gzip trailer", valid[:len(valid)-4], "truncated archive"},
		{"corrupt", append(slices.Clone(valid[:len(valid)-8]), 1, 2, 3, 4, 5, 6, 7, 8), "corrupt archive"},
		{"not gzip", []byte("name = \"x\"\n"), "not a gzip-compressed tar archive"},
	}
	if len(cases[len(cases)-6].data) > 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed; it should be small", len(cases[len(cases)-6].data))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			packs := t.TempDir()
			src := filepath.Join(t.TempDir(), "evil.tar.gz")
			if err := os.WriteFile(src, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Install(src, opts(packs))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if left := leftovers(t, packs); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
			if _, err := os.Lstat("/tmp/evil.lua"); err == nil {
				t.Errorf("/tmp/evil.lua was written")
			}
		})
	}
	// the unmodified archive installs
	src := filepath.Join(t.TempDir(), "good.tar.gz")
	os.WriteFile(src, valid, 0o644)
	o := opts(t.TempDir())
	o.NoTest = true
	if _, err := Install(src, o); err != nil {
		t.Errorf("the valid archive: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestInstallChecksRangesAndVersions(t *testing.T) {
	packs := t.TempDir()
	base1 := buildArchive(t, writePack(t, t.TempDir(), "base", "1.0.0", "", nil))
	base2 := buildArchive(t, writePack(t, t.TempDir(), "base", "2.0.0", "", nil))
	app := buildArchive(t, writePack(t, t.TempDir(), "app", "1.0.0", "[requires]\nbase = \"^1.0\"\n", nil))
	future := buildArchive(t, writePack(t, t.TempDir(), "future", "1.0.0", "agentd = \">=0.2.0\"\n", nil))

	if _, err := Install(future, opts(packs)); err == nil || !strings.Contains(err.Error(), "future 1.0.0 needs agentd >=0.2.0; this is agentd 0.1.0") {
		t.Errorf("agentd range: %v", err)
	}
	if _, err := Install(app, opts(packs)); err == nil || !strings.Contains(err.Error(), "app requires pack base ^1.0, which is not installed") {
		t.Errorf("missing requirement: %v", err)
	}
	if _, err := Install(base2, opts(packs)); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(app, opts(packs)); err == nil || !strings.Contains(err.Error(), "app requires pack base ^1.0; base 2.0.0 is installed") {
		t.Errorf("requirement out of range: %v", err)
	}
	o := opts(packs)
	o.Upgrade = true
	if _, err := Install(base1, opts(packs)); err == nil || !strings.Contains(err.Error(), "base 2.0.0 is installed; 1.0.0 is not newer (use --upgrade") {
		t.Errorf("downgrade without --upgrade: %v", err)
	}
	res, err := Install(base1, o)
	if err != nil || res.Previous.String() != "2.0.0" {
		t.Fatalf("downgrade with --upgrade: %v %+v", err, res)
	}
	if _, err := Install(app, opts(packs)); err != nil {
		t.Fatal(err)
	}
	// base 2.0.0 would break app; removing base too
	if _, err := Install(base2, opts(packs)); err == nil || !strings.Contains(err.Error(), "installed pack app requires base ^1.0; 2.0.0 would break it") {
		t.Errorf("breaking upgrade: %v", err)
	}
	if err := Remove(packs, "base"); err == nil || !strings.Contains(err.Error(), "base not removed: required by app") {
		t.Errorf("remove of a requirement: %v", err)
	}
	if err := Remove(packs, "app"); err != nil {
		t.Fatal(err)
	}
	if err := Remove(packs, "base"); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, packs); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if err := Remove(packs, "base"); err == nil || !strings.Contains(err.Error(), "base is not installed") {
		t.Errorf("remove twice: %v", err)
	}
}

func TestInstallPinnedChecksum(t *testing.T) {
	packs := t.TempDir()
	src := buildArchive(t, writePack(t, t.TempDir(), "pinned", "1.0.0", "", nil))
	sum := sha256.Sum256(mustRead(t, src))
	o := opts(packs)
	o.SHA256 = strings.Repeat("0", 64)
	if _, err := Install(src, o); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("SHA-256 is %x, not %s as pinned", sum, o.SHA256)) {
		t.Errorf("wrong pin: %v", err)
	}
	o.SHA256 = strings.ToUpper(fmt.Sprintf("%x", sum))
	if res, err := Install(src, o); err != nil || res.SHA256 != fmt.Sprintf("%x", sum) {
		t.Errorf("right pin: %v", err)
	}
}

// A failed upgrade leaves the installed version as it was; a good one
// replaces every file, including those the new version no longer has.
func TestUpgradeIsAllOrNothing(t *testing.T) {
	packs := t.TempDir()
	v1 := writePack(t, t.TempDir(), "app", "1.0.0", "", map[string]string{"old.txt": "only in 1.0.0"})
	if _, err := Install(v1, opts(packs)); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, filepath.Join(packs, "app", "main.lua"))

	broken := writePack(t, t.TempDir(), "app", "2.0.0", "", map[string]string{
		"test/main_test.lua": "local test = require(\"agentd.test\")\ntest.equal(1, 2, \"arithmetic\")\n",
	})
	res, err := Install(broken, opts(packs))
	var tf *TestFailure
	if !asTestFailure(err, &tf) || !strings.Contains(err.Error(), "main_test.lua:2: arithmetic: got 1, want 2") || res == nil || len(res.Tests) != 1 {
		t.Fatalf("failing tests: %v", err)
	}
	if got := mustRead(t, filepath.Join(packs, "app", "main.lua")); !bytes.Equal(got, before) {
		t.Errorf("a failed upgrade changed the installed pack")
	}
	syntax := writePack(t, t.TempDir(), "app", "2.0.0", "", map[string]string{"lib/app/x.lua": "local = 1\n"})
	if _, err := Install(syntax, opts(packs)); err == nil || !strings.Contains(err.Error(), "lib/app/x.lua:1:") {
		t.Errorf("compile error: %v", err)
	}

	v2 := writePack(t, t.TempDir(), "app", "2.0.0", "", nil)
	if _, err := Install(v2, opts(packs)); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, filepath.Join(packs, "app", "main.lua")); !bytes.Contains(got, []byte(`"2.0.0"`)) {
		t.Errorf("upgrade did not replace main.lua: %s", got)
	}
	if _, err := os.Stat(filepath.Join(packs, "app", "old.txt")); err == nil {
		t.Errorf("a file of the old version survived the upgrade")
	}
	if left := leftovers(t, packs, "app"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func asTestFailure(err error, tf **TestFailure) bool {
	f, ok := err.(*TestFailure)
	*tf = f
	return ok
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBuildRefusesLinksAndBadLua(t *testing.T) {
	dir := writePack(t, t.TempDir(), "links", "1.0.0", "", map[string]string{"lib/links/bad.lua": "function f(\n"})
	if _, err := Build(dir, io.Discard); err == nil || !strings.Contains(err.Error(), "lib/links/bad.lua:1:") {
		t.Errorf("syntax error: %v", err)
	}
	os.Remove(filepath.Join(dir, "lib/links/bad.lua"))
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "lib", "passwd")); err != nil {
		t.Skip(err)
	}
	if _, err := Build(dir, io.Discard); err == nil || !strings.Contains(err.Error(), "lib/passwd is a symbolic link") {
		t.Errorf("symlink: %v", err)
	}
}

func TestListShowsDaemonStatus(t *testing.T) {
	packs := t.TempDir()
	o := opts(packs)
	o.NoTest = true
	for _, name := range []string{"one", "two"} {
		if _, err := Install(writePack(t, t.TempDir(), name, "1.0.0", "", nil), o); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(packs, "junk"), 0o755)
	entries, running, err := List(packs)
	if err != nil || running || len(entries) != 3 {
		t.Fatalf("List: %v %v %+v", err, running, entries)
	}
	if entries[0].Name != "junk" || !strings.Contains(entries[0].Problem, "no pack.toml") || entries[1].Version != "1.0.0" || entries[1].Description != "the one pack" {
		t.Errorf("entries %+v", entries)
	}
	st := &Status{PID: os.Getpid(), Packs: map[string]PackStatus{
		"one": {Version: "1.0.0", State: StateLoaded},
		"two": {Version: "1.0.0", State: StateFailed, Error: "two/main.lua:1: boom"},
	}}
	if err := WriteStatus(packs, st); err != nil {
		t.Fatal(err)
	}
	entries, running, err = List(packs)
	if err != nil || !running || entries[1].State != StateLoaded || entries[2].State != StateFailed || entries[2].Why != "two/main.lua:1: boom" {
		t.Errorf("with status: %v %v %+v", err, running, entries)
	}
	// a status left by a process that is gone is ignored
	st.PID = deadPID(t)
	WriteStatus(packs, st)
	if _, running, _ := List(packs); running {
		t.Errorf("status of a dead process taken as current")
	}
	RemoveStatus(packs, st.PID)
	if _, err := os.Stat(filepath.Join(packs, StatusName)); err == nil {
		t.Errorf("RemoveStatus left the file")
	}
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	path, err := exec.LookPath("true")
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(path)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func manyFiles(n int) []entry {
	var out []entry
	for i := range n {
		out = append(out, file(fmt.Sprintf("f%03d.txt", i), "x"))
	}
	return out
}
