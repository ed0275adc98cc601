package pack

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// An Installed pack is a folder of a packs_dir. Manifest is nil when its
// pack.toml is missing or invalid; Err says why.
type Installed struct {
	Name     string // the folder's name
	Dir      string
	Manifest *Manifest
	Err      error
	ID       FolderID // the folder Manifest (or Err) was read from
}

// Scan returns the packs installed in packsDir, sorted by name: every
// folder whose name does not start with '.'. A packsDir that does not
// exist holds no packs. Each pack is read with ReadPack, so an install or
// a removal that happens meanwhile shows as the version before or the
// version after (or no pack), never as a mixture of both, or as a pack
// that lacks files.
func Scan(packsDir string) ([]Installed, error) {
	entries, err := os.ReadDir(packsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	var out []Installed
	for _, e := range entries {
		if !e.IsDir() || ignored(e.Name()) {
			continue
		}
		if in, ok := scanOne(packsDir, e.Name(), LoadManifest); ok {
			out = append(out, in)
		}
	}
	return out, nil
}

// scanOne reads the pack folder packsDir/name with load; it reports false
// when the folder is no longer there (removed since it was listed).
func scanOne(packsDir, name string, load func(string) (*Manifest, error)) (Installed, bool) {
	in := Installed{Name: name, Dir: filepath.Join(packsDir, name)}
	m, id, err := readPack(in.Dir, load)
	in.ID = id
	switch {
	case id.fi == nil && errors.Is(err, fs.ErrNotExist):
		return in, false
	case errors.Is(err, fs.ErrNotExist):
		in.Err = errNotPack
	case err != nil:
		in.Err = err
	case m.Name != name:
		in.Err = fmt.Errorf("pack.toml names the pack %q, but its folder is %q", m.Name, name)
	default:
		in.Manifest = m
	}
	return in, true
}

// InstallOptions say how Install installs a pack.
type InstallOptions struct {
	PacksDir      string // where packs are installed; created if missing
	AgentdVersion string // this agentd's version, checked against the pack's agentd range
	Upgrade       bool   // also replace an installed version that is the same or newer
	SHA256        string // when set, the archive's SHA-256 (hex) must be this
	NoTest        bool   // do not run the pack's tests first
	Test          TestOptions

	limits *sizeLimits // tests make them smaller
	placed func()      // tests: called after the rename into place, before the old version is deleted
}

// InstallResult says what Install did.
type InstallResult struct {
	Manifest *Manifest
	Dir      string          // where the pack now is
	SHA256   string          // of the archive, hex
	Previous *semver.Version // the version replaced; nil for a new pack
	Tests    []TestResult    // nil with NoTest
}

// A TestFailure says that a pack was not installed because its tests failed.
type TestFailure struct {
	Pack    string
	Results []TestResult
}

func (e *TestFailure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pack: %s not installed: its tests failed", e.Pack)
	for _, r := range e.Results {
		for _, p := range r.Problems {
			b.WriteString("\n    " + p)
		}
	}
	return b.String()
}

// Install installs the pack src (a .tar.gz built by Build, or a pack
// folder, which is built first) into o.PacksDir:
//
//  1. the archive is read (at most 32 MiB) and its SHA-256 compared with
//     o.SHA256 when set;
//  2. it is unpacked into a new hidden folder inside PacksDir, refusing
//     anything unsafe (see unpack), and its checksums are verified;
//  3. the manifest is validated and every Lua file compiled;
//  4. the agentd range must allow o.AgentdVersion, every pack it requires
//     must be installed in a version its range allows, and a pack that is
//     installed and required by others must stay in their ranges;
//  5. an installed version that is the same or newer is kept unless
//     o.Upgrade;
//  6. the pack's tests run (unless o.NoTest); a failure stops here;
//  7. the folder is renamed into place: a new pack appears at once, and
//     an upgrade swaps the two folders in one step (on Linux; elsewhere in
//     two renames in a row), then deletes the old version under its
//     hidden name, so that a daemon watching PacksDir that reads a pack
//     from one folder (ReadPack, Scan) sees the old version or the new
//     one, never a mixture.
//
// Any failure leaves PacksDir as it was. Installs into one PacksDir are
// serialized by a lock file, PacksDir/.lock.
func Install(src string, o InstallOptions) (*InstallResult, error) {
	lim := limits
	if o.limits != nil {
		lim = *o.limits
	}
	data, err := archiveBytes(src, lim)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	res := &InstallResult{SHA256: hex.EncodeToString(sum[:])}
	if o.SHA256 != "" && !strings.EqualFold(o.SHA256, res.SHA256) {
		return nil, fmt.Errorf("pack: %s: SHA-256 is %s, not %s as pinned with --sha256", src, res.SHA256, o.SHA256)
	}
	running, err := semver.NewVersion(o.AgentdVersion)
	if err != nil {
		return nil, fmt.Errorf("pack: agentd version %q: %w", o.AgentdVersion, err)
	}
	if err := os.MkdirAll(o.PacksDir, 0o755); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	unlock, err := lock(o.PacksDir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	tmp, err := tempDir(o.PacksDir, "install")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // after a successful install it holds the old version, or is gone
	if err := unpack(data, tmp, lim); err != nil {
		return nil, err
	}
	m, err := LoadManifest(tmp)
	if err != nil {
		return nil, err
	}
	res.Manifest = m
	if err := compileAll(tmp); err != nil {
		return nil, err
	}
	installed, err := Scan(o.PacksDir)
	if err != nil {
		return nil, err
	}
	if err := checkCompatible(m, running, installed); err != nil {
		return nil, err
	}
	res.Dir = filepath.Join(o.PacksDir, m.Name)
	if i := slices.IndexFunc(installed, func(in Installed) bool { return in.Name == m.Name }); i >= 0 && installed[i].Manifest != nil {
		prev := installed[i].Manifest.Version
		res.Previous = prev
		if !m.Version.GreaterThan(prev) && !o.Upgrade {
			return nil, fmt.Errorf("pack: %s %s is installed; %s is not newer (use --upgrade to replace it anyway)", m.Name, prev, m.Version)
		}
	}
	if !o.NoTest {
		results, err := RunTests(tmp, o.Test)
		if err != nil {
			return nil, err
		}
		res.Tests = results
		for _, r := range results {
			if !r.Passed {
				return res, &TestFailure{Pack: m.Name + " " + m.Version.String(), Results: results}
			}
		}
	}
	if err := place(tmp, res.Dir); err != nil {
		return nil, err
	}
	if o.placed != nil {
		o.placed()
	}
	return res, nil
}

// archiveBytes reads the archive src, or builds the pack folder src.
func archiveBytes(src string, lim sizeLimits) ([]byte, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if fi.IsDir() {
		var buf bytes.Buffer
		if _, err := Build(src, &buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	if fi.Size() > lim.archive {
		return nil, &ArchiveError{Msg: fmt.Sprintf("%d bytes; an archive has at most %d", fi.Size(), lim.archive)}
	}
	data, err := readRegular(src, lim.archive)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return data, nil
}

// checkCompatible checks the ranges of m against the running agentd and
// the packs installed: what m requires, and what requires m.
func checkCompatible(m *Manifest, running *semver.Version, installed []Installed) error {
	var problems []string
	if !m.Agentd.Allows(running) {
		problems = append(problems, fmt.Sprintf("%s %s needs agentd %s; this is agentd %s", m.Name, m.Version, m.Agentd, running))
	}
	byName := map[string]*Manifest{}
	for _, in := range installed {
		if in.Manifest != nil {
			byName[in.Name] = in.Manifest
		}
	}
	for _, name := range sortedNames(m.Requires) {
		r := m.Requires[name]
		dep := byName[name]
		switch {
		case dep == nil:
			problems = append(problems, fmt.Sprintf("%s requires pack %s %s, which is not installed", m.Name, name, r))
		case !r.Allows(dep.Version):
			problems = append(problems, fmt.Sprintf("%s requires pack %s %s; %s %s is installed", m.Name, name, r, name, dep.Version))
		}
	}
	for _, in := range installed {
		if in.Manifest == nil || in.Name == m.Name {
			continue
		}
		if r, ok := in.Manifest.Requires[m.Name]; ok && !r.Allows(m.Version) {
			problems = append(problems, fmt.Sprintf("installed pack %s requires %s %s; %s would break it", in.Name, m.Name, r, m.Version))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("pack: %s %s not installed:\n    %s", m.Name, m.Version, strings.Join(problems, "\n    "))
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// place moves the unpacked folder tmp to dst. When dst exists the two are
// exchanged, and tmp then holds the old version.
func place(tmp, dst string) error {
	if err := os.Rename(tmp, dst); err == nil {
		return nil
	} else if _, serr := os.Lstat(dst); serr != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if err := exchange(tmp, dst); err != nil {
		return fmt.Errorf("pack: replacing %s: %w", dst, err)
	}
	return nil
}

// exchangeByRenames swaps two folders in two renames, through a third name.
func exchangeByRenames(a, b string) error {
	aside := a + ".old"
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(aside, b)
		return err
	}
	return os.Rename(aside, a)
}

// Remove uninstalls the pack name from packsDir: its folder is first
// renamed to a hidden name (so a daemon watching sees it go at once) and
// then deleted. A pack that other installed packs require is not removed.
func Remove(packsDir, name string) error {
	if !ValidName(name) {
		return fmt.Errorf("pack: %s", nameProblem(name))
	}
	unlock, err := lock(packsDir)
	if err != nil {
		return err
	}
	defer unlock()
	dir := filepath.Join(packsDir, name)
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return fmt.Errorf("pack: %s is not installed in %s", name, packsDir)
	}
	installed, err := Scan(packsDir)
	if err != nil {
		return err
	}
	var users []string
	for _, in := range installed {
		if in.Manifest != nil && in.Name != name {
			if _, ok := in.Manifest.Requires[name]; ok {
				users = append(users, in.Name)
			}
		}
	}
	if len(users) > 0 {
		return fmt.Errorf("pack: %s not removed: required by %s", name, strings.Join(users, ", "))
	}
	aside, err := tempName(packsDir, "remove")
	if err != nil {
		return err
	}
	if err := os.Rename(dir, aside); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("pack: %s removed, but its files are left in %s: %w", name, aside, err)
	}
	return nil
}

// tempDir makes a new hidden folder in dir.
func tempDir(dir, what string) (string, error) {
	name, err := tempName(dir, what)
	if err != nil {
		return "", err
	}
	if err := os.Mkdir(name, 0o755); err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	return name, nil
}

// tempName returns a new hidden name in dir: .WHAT-RANDOM.
func tempName(dir, what string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, "."+what+"-"+hex.EncodeToString(b[:])), nil
}
