package pack

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
)

func TestDecodeManifest(t *testing.T) {
	src := `name = "heartbeat"
version = "1.2.0-rc.1+build.5"
description = "liveness"
license = "MIT"
authors = ["Ada", "Grace <grace@example.org>"]
homepage = "https://example.org/heartbeat"
agentd = ">=0.1.0, <0.3.0"
scripts = ["heartbeat.lua", "agents/watch.lua"]

[requires]
base = "^1.2"

[config]
interval = 10
when = 2024-01-02

[test]
timeout = "3s"
[test.config]
interval = 0.1
`
	m, err := DecodeManifest("pack.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "heartbeat" || m.Version.String() != "1.2.0-rc.1+build.5" || m.Description != "liveness" || m.License != "MIT" ||
		!reflect.DeepEqual(m.Authors, []string{"Ada", "Grace <grace@example.org>"}) || m.Homepage != "https://example.org/heartbeat" {
		t.Errorf("fields: %+v", m)
	}
	if !reflect.DeepEqual(m.Scripts, []string{"heartbeat.lua", "agents/watch.lua"}) {
		t.Errorf("scripts %v", m.Scripts)
	}
	if !reflect.DeepEqual(m.Config, map[string]any{"interval": int64(10), "when": "2024-01-02"}) {
		t.Errorf("config %v", m.Config)
	}
	if m.Test.Timeout != 3*time.Second || !reflect.DeepEqual(m.Test.Config, map[string]any{"interval": 0.1}) {
		t.Errorf("test %+v", m.Test)
	}
	for v, want := range map[string]bool{"0.1.0": true, "0.2.9": true, "0.3.0": false, "0.0.9": false} {
		if got := m.Agentd.Allows(mustVersion(t, v)); got != want {
			t.Errorf("agentd range allows %s = %v", v, got)
		}
	}
	for v, want := range map[string]bool{"1.2.0": true, "1.9.3": true, "2.0.0": false, "1.1.0": false} {
		if got := m.Requires["base"].Allows(mustVersion(t, v)); got != want {
			t.Errorf("requires base allows %s = %v", v, got)
		}
	}
	min, err := DecodeManifest("pack.toml", []byte("name = \"x\"\nversion = \"0.0.1\"\nscripts = [\"x.lua\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !min.Agentd.Allows(mustVersion(t, "99.0.0")) || min.Agentd.String() != "*" || min.Test.Timeout != 10*time.Second || min.Config == nil {
		t.Errorf("defaults: %+v", min)
	}
}

func mustVersion(t *testing.T, s string) *semver.Version {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Every problem is reported, each with file:line: key.
func TestDecodeManifestErrors(t *testing.T) {
	src := `Name = "x"
version = "1.2"
description = 5
homepage = "ftp://x"
agentd = ">>1"
scripts = ["../up.lua", "/abs.lua", "a.txt", "lib/m.lua", "ok.lua", "ok.lua", ".hidden.lua", 7]
authors = [""]
[requires]
"Bad_Name" = "1"
other = "not a range"
[test]
timeout = 5
extra = true
[[config]]
`
	_, err := DecodeManifest("p/pack.toml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`p/pack.toml:1: Name: unknown key (keys are case-sensitive; did you mean "name"?)`,
		`p/pack.toml:2: version: "1.2" is not a semantic version MAJOR.MINOR.PATCH`,
		`p/pack.toml:3: description: expected a string, got integer 5`,
		`p/pack.toml:4: homepage: "ftp://x" is not an http or https URL`,
		`p/pack.toml:5: agentd: invalid version range ">>1"`,
		`p/pack.toml:6: scripts[1]: "../up.lua": leads out of the pack`,
		`p/pack.toml:6: scripts[2]: "/abs.lua": an absolute path`,
		`p/pack.toml:6: scripts[3]: "a.txt": a script is a .lua file`,
		`p/pack.toml:6: scripts[4]: "lib/m.lua": lib/ holds modules`,
		`p/pack.toml:6: scripts[6]: "ok.lua" is listed twice`,
		`p/pack.toml:6: scripts[7]: ".hidden.lua": hidden files`,
		`p/pack.toml:6: scripts[8]: expected a string, got integer 7`,
		`p/pack.toml:7: authors[1]: empty author`,
		`p/pack.toml:9: requires.Bad_Name: "Bad_Name" is not a pack name`,
		`p/pack.toml:10: requires.other: invalid version range "not a range"`,
		`p/pack.toml:12: test.timeout: bare number 5 is not a duration; write "5s"`,
		`p/pack.toml:13: test.extra: unknown key`,
		`p/pack.toml:14: config: expected a table, got array of tables`,
		`p/pack.toml: name: required key is missing (e.g. name = "heartbeat")`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, err := DecodeManifest("pack.toml", []byte("name = \"a\"\nversion = \"1.0.0\"\nscripts = []\n[requires]\na = \"1\"\n")); err == nil ||
		!strings.Contains(err.Error(), "pack.toml:3: scripts: a pack runs at least one script") ||
		!strings.Contains(err.Error(), "pack.toml:5: requires.a: a pack cannot require itself") {
		t.Errorf("empty scripts, self-requirement: %v", err)
	}
	if _, err := DecodeManifest("pack.toml", []byte("name = \"1x\"\nversion = \"v1.0.0\"\nscripts = [\"a.lua\"]\nx = [")); err == nil || !strings.Contains(err.Error(), "pack.toml:4:") {
		t.Errorf("syntax error: %v", err)
	}
}

func TestLoadManifestChecksScripts(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pack.toml"), []byte("name = \"a\"\nversion = \"1.0.0\"\nscripts = [\"a.lua\", \"sub\", \"b.lua\"]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.lua"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	_, err := LoadManifest(dir)
	file := filepath.Join(dir, "pack.toml")
	for _, want := range []string{file + `:3: scripts[2]: "sub": a script is a .lua file`, file + `:3: scripts[3]: "b.lua": no such file in the pack`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if _, err := LoadManifest(t.TempDir()); err == nil || !strings.Contains(err.Error(), "pack.toml: no such file") {
		t.Errorf("no manifest: %v", err)
	}
}
