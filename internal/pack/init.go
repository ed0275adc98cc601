package pack

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
)

//go:embed skeleton
var skeleton embed.FS

// Init makes a new pack in the folder dir, which must not exist or be
// empty: a manifest, one agent, a lib/ module, a test and a README. The
// pack is named after the folder, which must therefore be a valid pack
// name; its agentd range starts at agentdVersion's MAJOR.MINOR.0. It
// passes RunTests as made.
func Init(dir, agentdVersion string) (*Manifest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(abs)
	if !ValidName(name) {
		return nil, fmt.Errorf("pack: the folder's name is the pack's name: %s", nameProblem(name))
	}
	v, err := semver.NewVersion(agentdVersion)
	if err != nil {
		return nil, fmt.Errorf("pack: agentd version %q: %w", agentdVersion, err)
	}
	if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("pack: %s is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pack: %w", err)
	}
	files := map[string]string{
		ManifestName:                    "skeleton/pack.toml",
		name + ".lua":                   "skeleton/agent.lua",
		"lib/" + name + "/greeting.lua": "skeleton/greeting.lua",
		"test/" + name + "_test.lua":    "skeleton/test.lua",
		"README.md":                     "skeleton/README.md",
	}
	r := strings.NewReplacer("PACKNAME", name, "AGENTDMINOR", fmt.Sprintf("%d.%d.0", v.Major(), v.Minor()))
	for rel, src := range files {
		text, err := skeleton.ReadFile(src)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(abs, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		if err := os.WriteFile(path, []byte(r.Replace(string(text))), 0o644); err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
	}
	return LoadManifest(abs)
}
