package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFiles creates each file (with parents) under root.
func writeFiles(t *testing.T, root string, files ...string) {
	t.Helper()
	for _, f := range files {
		path := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("-- "+f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResolveScripts(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root,
		"scripts/b.lua", "scripts/a.lua", "scripts/.hidden.lua", "scripts/notes.txt", "scripts/sub/deep.lua",
		"one.lua",
		"glob/x.lua", "glob/y.lua", "glob/z.txt", "glob/.dot.lua",
	)
	if err := os.Mkdir(filepath.Join(root, "scripts", "dir.lua"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, root, "config.toml")
	src := `[agentd]
scripts = [
  "scripts",
  "one.lua",
  "glob/*.lua",
  "scripts/a.lua",
  "` + filepath.Join(root, "one.lua") + `",
]
`
	cfg, err := Decode(filepath.Join(root, "config.toml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.ResolveScripts()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range []string{"scripts/a.lua", "scripts/b.lua", "one.lua", "glob/x.lua", "glob/y.lua"} {
		want = append(want, filepath.Join(root, f))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolveScripts:\n got %q\nwant %q", got, want)
	}
}

func TestResolveScriptsErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, "ok.lua", "readme.md", "empty/x.txt")
	src := `[agentd]
scripts = [
  "ok.lua",
  "missing.lua",
  "nofolder",
  "readme.md",
  "empty/*.lua",
  "[",
  "empty",
]
`
	cfg, err := Decode(filepath.Join(root, "config.toml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	files, err := cfg.ResolveScripts()
	if want := []string{filepath.Join(root, "ok.lua")}; !reflect.DeepEqual(files, want) {
		t.Errorf("files = %q, want %q (the entries that resolve)", files, want)
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %T: %v", err, err)
	}
	wantErrs := []struct {
		line int
		key  string
		msg  string
	}{
		{4, "agentd.scripts[2]", `no such file or folder: "missing.lua"`},
		{5, "agentd.scripts[3]", `no such file or folder: "nofolder"`},
		{6, "agentd.scripts[4]", `not a .lua file: "readme.md"`},
		{7, "agentd.scripts[5]", `glob matches no .lua file: "empty/*.lua"`},
		{8, "agentd.scripts[6]", `bad glob pattern: "["`},
	}
	if len(errs) != len(wantErrs) {
		t.Fatalf("got %d problems, want %d:\n%v", len(errs), len(wantErrs), err)
	}
	for i, w := range wantErrs {
		e := errs[i]
		if e.File != filepath.Join(root, "config.toml") || e.Line != w.line || e.Key != w.key || !strings.HasPrefix(e.Msg, w.msg) {
			t.Errorf("problem %d = %v\nwant %d %s %s", i+1, e, w.line, w.key, w.msg)
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false")
	}
}

// TestRelativePathsUseConfigFolder loads a config through a relative name
// from a working directory that has its own, decoy scripts folder.
func TestRelativePathsUseConfigFolder(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, "scripts/decoy.lua", "proj/scripts/real.lua")
	src := "[agentd]\nscripts = [\"scripts\"]\npacks_dir = \"my-packs\"\n[log]\nfile = \"agentd.log\"\n"
	if err := os.WriteFile(filepath.Join(work, "proj", "config.toml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)

	cfg, err := Load(filepath.Join("proj", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(work, "proj")
	if cfg.File != filepath.Join(proj, "config.toml") || cfg.Dir != proj {
		t.Errorf("File, Dir = %q, %q", cfg.File, cfg.Dir)
	}
	if cfg.Agentd.PacksDir != filepath.Join(proj, "my-packs") || cfg.Log.File != filepath.Join(proj, "agentd.log") {
		t.Errorf("packs_dir, log.file = %q, %q", cfg.Agentd.PacksDir, cfg.Log.File)
	}
	if s := cfg.Agentd.Scripts[0]; s.Spec != "scripts" || s.Path != filepath.Join(proj, "scripts") {
		t.Errorf("scripts[1] = %+v", s)
	}
	files, err := cfg.ResolveScripts()
	if want := []string{filepath.Join(proj, "scripts", "real.lua")}; err != nil || !reflect.DeepEqual(files, want) {
		t.Errorf("ResolveScripts = %q, %v; want %q", files, err, want)
	}

	// A missing entry is reported under the name the file was loaded by.
	if err := os.RemoveAll(filepath.Join(proj, "scripts")); err != nil {
		t.Fatal(err)
	}
	_, err = cfg.ResolveScripts()
	want := `proj/config.toml:2: agentd.scripts[1]: no such file or folder: "scripts" (` + filepath.Join(proj, "scripts") + ")"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
