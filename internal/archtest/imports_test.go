package archtest

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/agentd/agentd"

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Deps       []string
	Imports    []string
}

func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = &p
	}
	// Deps are transitive; go list fills them without -deps too.
	return pkgs
}

// forbidden lists, per package (and its subpackages), the import paths
// that must not appear among its transitive dependencies. A path ending
// in "/..." forbids everything below it.
var forbidden = map[string][]string{
	module + "/runtime": {
		"github.com/yuin/gopher-lua/...", "layeh.com/gopher-luar/...",
		module + "/luabind/...", module + "/exchange/...",
		"github.com/fsnotify/fsnotify/...", "github.com/BurntSushi/toml/...",
		"net", "os/signal",
	},
	module + "/luabind":  {module + "/exchange/..."},
	module + "/exchange": {"github.com/yuin/gopher-lua/...", "layeh.com/gopher-luar/...", module + "/luabind/..."},
}

// leaves import nothing of the project but other leaves.
var leaves = []string{
	module + "/internal/subject",
	module + "/internal/cron",
	module + "/internal/logging",
	module + "/internal/config",
	module + "/internal/wire",
	module + "/internal/regfile",
}

func matches(path, rule string) bool {
	if base, ok := strings.CutSuffix(rule, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == rule
}

func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) == 0 {
		t.Fatal("no packages listed")
	}
	for path, p := range pkgs {
		for owner, rules := range forbidden {
			if !matches(path, owner+"/...") {
				continue
			}
			for _, dep := range p.Deps {
				for _, rule := range rules {
					if matches(dep, rule) {
						t.Errorf("%s depends on %s (forbidden by ARCHITECTURE.md)", path, dep)
					}
				}
			}
		}
	}
	for _, leaf := range leaves {
		p := pkgs[leaf]
		if p == nil {
			t.Errorf("leaf package %s not found", leaf)
			continue
		}
		for _, dep := range p.Deps {
			if matches(dep, module+"/...") && !slices.Contains(leaves, dep) {
				t.Errorf("leaf package %s depends on %s", leaf, dep)
			}
		}
	}
}

// Only cmd/agentd may call os.Exit or signal.Notify or print to the
// process's standard output for itself.
func TestOnlyCmdExitsAndPrints(t *testing.T) {
	banned := map[string]string{
		"os.Exit": "exits the process", "signal.Notify": "traps signals", "os.Stdout": "writes to standard output",
		"fmt.Print": "prints to standard output", "fmt.Println": "prints to standard output", "fmt.Printf": "prints to standard output",
		"log.Fatal": "exits the process", "log.Fatalf": "exits the process", "log.Print": "prints", "log.Printf": "prints", "log.Println": "prints",
	}
	for path, p := range listPackages(t) {
		if matches(path, module+"/cmd/...") {
			continue
		}
		for _, f := range p.GoFiles {
			file := filepath.Join(p.Dir, f)
			ast.Inspect(parseFile(t, file), func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok {
					if why, bad := banned[x.Name+"."+sel.Sel.Name]; bad {
						t.Errorf("%s: %s.%s %s; only cmd/agentd may", file, x.Name, sel.Sel.Name, why)
					}
				}
				return true
			})
		}
	}
}

func parseFile(t *testing.T, path string) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
