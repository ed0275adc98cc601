package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agentd/agentd/internal/config"
	"github.com/agentd/agentd/internal/pack"
)

const packUsage = `usage:
  agentd pack init DIR                      make a new pack in DIR
  agentd pack build DIR [-o FILE]           check DIR and write NAME-VERSION.tar.gz
  agentd pack install FILE|DIR [--upgrade] [--sha256 HEX] [--no-test]
                                            install a pack into the packs folder
  agentd pack list                          the installed packs
  agentd pack remove NAME                   uninstall a pack
  agentd pack test DIR [-v] [--timeout D]   run the pack's tests
Every pack command takes --packs-dir D (default: packs_dir of -c FILE,
else of ./config.toml if there is one, else ./packs).
`

func cmdPack(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, packUsage)
		return exitUsage
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, packUsage)
		return exitOK
	case "init", "build", "install", "list", "remove", "test":
	default:
		fmt.Fprintf(stderr, "agentd pack: unknown command %q\n%s", sub, packUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("agentd pack "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	packsDir := fs.String("packs-dir", "", "folder of installed packs")
	cfgPath := fs.String("c", "", "configuration file whose packs_dir to use")
	var (
		out      = fs.String("o", "", "build: the archive to write")
		upgrade  = fs.Bool("upgrade", false, "install: replace an installed version even if it is the same or newer")
		sum      = fs.String("sha256", "", "install: the SHA-256 the archive must have")
		noTest   = fs.Bool("no-test", false, "install: do not run the pack's tests first")
		verbose  = fs.Bool("v", false, "test: show what scripts print and log")
		timeout  = fs.Duration("timeout", 0, "test: time each test may take (default: the pack's [test] timeout)")
		wantArgs = map[string]int{"init": 1, "build": 1, "install": 1, "list": 0, "remove": 1, "test": 1}[sub]
	)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != wantArgs {
		fmt.Fprintf(stderr, "agentd pack %s: want %d argument(s), got %d\n%s", sub, wantArgs, len(pos), packUsage)
		return exitUsage
	}
	used := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { used[f.Name] = true })
	allowed := map[string][]string{
		"build": {"o"}, "install": {"upgrade", "sha256", "no-test", "v", "timeout"}, "test": {"v", "timeout"},
	}[sub]
	for name := range used {
		if name != "packs-dir" && name != "c" && !contains(allowed, name) {
			fmt.Fprintf(stderr, "agentd pack %s: -%s does not apply to %s\n", sub, name, sub)
			return exitUsage
		}
	}
	dir := func() (string, bool) {
		d, err := resolvePacksDir(*packsDir, *cfgPath)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return "", false
		}
		return d, true
	}
	testOpts := pack.TestOptions{Verbose: *verbose, Timeout: *timeout}

	switch sub {
	case "init":
		m, err := pack.Init(pos[0], Version)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "created pack %s in %s; try: agentd pack test %s\n", m.Name, pos[0], pos[0])
	case "build":
		m, file, err := pack.BuildFile(pos[0], *out)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "built %s (%s %s)\n", file, m.Name, m.Version)
	case "install":
		d, ok := dir()
		if !ok {
			return exitUsage
		}
		res, err := pack.Install(pos[0], pack.InstallOptions{
			PacksDir: d, AgentdVersion: Version, Upgrade: *upgrade, SHA256: *sum, NoTest: *noTest, Test: testOpts,
		})
		if res != nil {
			printTests(stdout, res.Tests, *verbose)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		m := res.Manifest
		if res.Previous != nil {
			fmt.Fprintf(stdout, "replaced %s %s with %s in %s (sha256 %s)\n", m.Name, res.Previous, m.Version, res.Dir, res.SHA256)
		} else {
			fmt.Fprintf(stdout, "installed %s %s in %s (sha256 %s)\n", m.Name, m.Version, res.Dir, res.SHA256)
		}
	case "list":
		d, ok := dir()
		if !ok {
			return exitUsage
		}
		entries, running, err := pack.List(d)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		printList(stdout, d, entries, running)
	case "remove":
		d, ok := dir()
		if !ok {
			return exitUsage
		}
		if err := pack.Remove(d, pos[0]); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "removed %s from %s\n", pos[0], d)
	case "test":
		results, err := pack.RunTests(pos[0], testOpts)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		if !printTests(stdout, results, *verbose) {
			return exitFailure
		}
	}
	return exitOK
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns the latter.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// resolvePacksDir picks the packs folder: --packs-dir, else packs_dir of
// the -c configuration, else of ./config.toml when it exists, else ./packs.
func resolvePacksDir(flagDir, cfgPath string) (string, error) {
	if flagDir != "" {
		return flagDir, nil
	}
	path := cfgPath
	if path == "" {
		if _, err := os.Stat("config.toml"); errors.Is(err, fs.ErrNotExist) {
			return "packs", nil
		}
		path = "config.toml"
	}
	cfg, err := config.Load(path)
	if err != nil {
		return "", err
	}
	return cfg.Agentd.PacksDir, nil
}

// printTests prints one line per test, with the problems of failed ones,
// and a summary line; it reports whether every test passed.
func printTests(w io.Writer, results []pack.TestResult, verbose bool) bool {
	if len(results) == 0 {
		return true
	}
	passed, failed := 0, 0
	for _, r := range results {
		status := "ok  "
		if r.Passed {
			passed++
		} else {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "%s %s (%.2fs)\n", status, r.File, r.Took.Round(10*time.Millisecond).Seconds())
		for _, p := range r.Problems {
			fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(p, "\n", "\n    "))
		}
		if r.Output != "" && (verbose || !r.Passed) {
			fmt.Fprintf(w, "    output:\n        %s\n", strings.ReplaceAll(strings.TrimRight(r.Output, "\n"), "\n", "\n        "))
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return failed == 0
}

func printList(w io.Writer, dir string, entries []pack.Entry, running bool) {
	if len(entries) == 0 {
		fmt.Fprintf(w, "no packs installed in %s\n", dir)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if running {
		fmt.Fprintln(tw, "NAME\tVERSION\tSTATE\tDESCRIPTION")
	} else {
		fmt.Fprintln(tw, "NAME\tVERSION\tDESCRIPTION")
	}
	var why []string
	for _, e := range entries {
		version, desc := e.Version, e.Description
		if e.Problem != "" {
			version, desc = "-", "invalid: "+firstLine(e.Problem)
		}
		if running {
			state := e.State
			if state == "" {
				state = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, version, state, desc)
			if e.Why != "" {
				why = append(why, fmt.Sprintf("%s: %s", e.Name, e.Why))
			}
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, version, desc)
		}
	}
	tw.Flush()
	for _, line := range why {
		fmt.Fprintln(w, line)
	}
	if !running {
		fmt.Fprintf(w, "(no agentd runs on %s: states unknown)\n", dir)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
