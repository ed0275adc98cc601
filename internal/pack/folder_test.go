package pack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// installed installs the pack folder src into packs, without its tests.
func installed(t *testing.T, packs, src string) {
	t.Helper()
	o := opts(packs)
	o.NoTest = true
	if _, err := Install(src, o); err != nil {
		t.Fatal(err)
	}
}

// tornLoad returns a manifest reader that, the first time it is called,
// reads pack.toml, then calls between (which renames folders as an
// install or a removal does) and then checks the manifest against the
// files, as LoadManifest does in one go; later calls are LoadManifest.
// The first read is torn: its manifest comes from one folder and its
// files from another.
func tornLoad(t *testing.T, between func()) (load func(string) (*Manifest, error), calls *int) {
	calls = new(int)
	return func(dir string) (*Manifest, error) {
		*calls++
		if *calls > 1 {
			return LoadManifest(dir)
		}
		file := filepath.Join(dir, ManifestName)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		between()
		return decodeManifest(file, data, dir)
	}, calls
}

// A pack removed while Scan reads it is not there, rather than a pack
// whose scripts are missing: what a daemon looking at the packs_dir in the
// middle of `agentd pack remove` used to see.
func TestScanDuringRemove(t *testing.T) {
	packs := t.TempDir()
	installed(t, packs, writePack(t, t.TempDir(), "app", "1.0.0", "", nil))
	remove := func() {
		if err := Remove(packs, "app"); err != nil {
			t.Fatal(err)
		}
	}

	// the torn read by itself: the manifest's script is missing
	load, _ := tornLoad(t, remove)
	if _, err := load(filepath.Join(packs, "app")); err == nil || !strings.Contains(err.Error(), `scripts[1]: "main.lua": no such file in the pack`) {
		t.Fatalf("torn read: %v", err)
	}

	installed(t, packs, writePack(t, t.TempDir(), "app", "1.0.0", "", nil))
	load, calls := tornLoad(t, remove)
	if in, ok := scanOne(packs, "app", load); ok {
		t.Errorf("scan during a removal: %+v, want no pack", in)
	}
	if *calls != 1 {
		t.Errorf("%d reads of a removed folder", *calls)
	}
}

// twoScripts is a pack folder of app in version v whose scripts are
// main.lua and only (a script this version alone has).
func twoScripts(t *testing.T, v, only string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range map[string]string{
		ManifestName: "name = \"app\"\nversion = \"" + v + "\"\nscripts = [\"main.lua\", \"" + only + "\"]\n",
		"main.lua":   "print(\"main\")\n",
		only:         "print(\"" + v + "\")\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A pack upgraded while Scan reads it is read again, whole: the new
// version's manifest, checked against the new version's files. The moment
// between the exchange of the two folders and the deletion of the old one
// is seen as the new version.
func TestScanDuringUpgrade(t *testing.T) {
	packs := t.TempDir()
	installed(t, packs, twoScripts(t, "1.0.0", "old.lua"))
	dir := filepath.Join(packs, "app")
	v1, err := FolderIDOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	upgrade := func() { installed(t, packs, twoScripts(t, "2.0.0", "new.lua")) }

	// the torn read by itself: 1.0.0's manifest, 2.0.0's files
	load, _ := tornLoad(t, upgrade)
	if _, err := load(dir); err == nil || !strings.Contains(err.Error(), `scripts[2]: "old.lua": no such file in the pack`) {
		t.Fatalf("torn read: %v", err)
	}

	installed(t, packs, twoScripts(t, "3.0.0", "old.lua"))
	load, calls := tornLoad(t, func() { installed(t, packs, twoScripts(t, "4.0.0", "new.lua")) })
	in, ok := scanOne(packs, "app", load)
	if !ok || in.Err != nil || in.Manifest == nil || in.Manifest.Version.String() != "4.0.0" || strings.Join(in.Manifest.Scripts, " ") != "main.lua new.lua" {
		t.Fatalf("scan during an upgrade: %+v (present %v), want 4.0.0 with main.lua and new.lua", in, ok)
	}
	if *calls != 2 || in.ID.Replaced(dir) || !v1.Replaced(dir) {
		t.Errorf("%d reads; the folder read is replaced: %v; 1.0.0's folder is replaced: %v", *calls, in.ID.Replaced(dir), v1.Replaced(dir))
	}

	// between the exchange and the deletion of the old version
	o := opts(packs)
	o.NoTest = true
	o.placed = func() {
		got, err := Scan(packs)
		if err != nil || len(got) != 1 || got[0].Err != nil || got[0].Manifest.Version.String() != "5.0.0" {
			t.Errorf("scan between the exchange and the deletion: %+v %v", got, err)
		}
		if left := leftovers(t, packs, "app"); len(left) != 1 || !strings.HasPrefix(left[0], ".install-") {
			t.Errorf("between the exchange and the deletion packs holds %v, want app and the old version, hidden", left)
		}
	}
	if _, err := Install(twoScripts(t, "5.0.0", "old.lua"), o); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, packs, "app"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// A folder that keeps being replaced is read a bounded number of times.
func TestReadPackGivesUp(t *testing.T) {
	packs := t.TempDir()
	installed(t, packs, twoScripts(t, "1.0.0", "a.lua"))
	n := 1
	calls := 0
	m, _, err := readPack(filepath.Join(packs, "app"), func(dir string) (*Manifest, error) {
		calls++
		n++
		installed(t, packs, twoScripts(t, fmt.Sprintf("%d.0.0", n), "a.lua"))
		return LoadManifest(dir)
	})
	if calls != maxReads || err != nil || m.Version.String() != fmt.Sprintf("%d.0.0", n) {
		t.Errorf("%d reads, %v, %v: want %d reads, the last one's result", calls, m, err, maxReads)
	}
}
