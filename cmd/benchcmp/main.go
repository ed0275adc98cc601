// Command benchcmp runs Go benchmarks of a baseline revision and of the
// working tree alternately, in one sitting, and prints medians and ratios
// (current / baseline). It is a development tool, not part of go test.
//
//	go run ./cmd/benchcmp -base da495a8 -rounds 3 \
//	    luabind:ReportsOneToOne:300000x luabind:IdleAgents:1x
//
// Each argument is PACKAGE:BENCHMARK:BENCHTIME (BENCHMARK without its
// "Benchmark" prefix). The baseline is extracted with git archive into a
// temporary folder; the benchmark files named by -overlay are compiled
// into the baseline's test binary from the working tree (go test
// -overlay), so both versions are measured by the same code. Every run
// also records the whole process's CPU time (proc-cpu-s) and the load
// average before it.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/agentd/agentd/internal/benchcmp"
)

type scenario struct {
	pkg, bench, benchtime string
}

// units lists the metrics to show first, in this order.
var units = []string{
	"cpu-ns/delivery", "allocs/delivery", "B/delivery", "delivery/s",
	"cpu-ns/start", "allocs/start", "KiB-RSS/agent", "KiB-RSS-held/agent", "KiB-heap/agent", "ms/10k-starts", "ms/1k-starts",
	"cpu-ns/call", "ns/op", "p50-ms", "p99-ms", "reports/s", "lost", "cores", "proc-cpu-s",
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchcmp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("base", "", "baseline revision (a commit, tag or branch)")
	rounds := fs.Int("rounds", 3, "rounds: each runs every scenario once per version, alternating which goes first")
	overlay := fs.String("overlay", "luabind/bench_test.go,luabind/benchmeasure_test.go",
		"files of the working tree compiled into the baseline's test binaries")
	keep := fs.Bool("keep", false, "keep the temporary folder (baseline tree, binaries, raw outputs)")
	curEnv := fs.String("cur-env", "", "environment variables for the current version's runs (e.g. GOGC=200), comma-separated")
	baseEnv := fs.String("base-env", "", "environment variables for the baseline's runs, comma-separated")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *base == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: benchcmp -base REV [-rounds N] [-overlay files] PKG:BENCH:BENCHTIME ...")
		return 2
	}
	var scens []scenario
	for _, a := range fs.Args() {
		p := strings.Split(a, ":")
		if len(p) != 3 || p[0] == "" || p[1] == "" || p[2] == "" {
			fmt.Fprintf(stderr, "benchcmp: %q is not PKG:BENCH:BENCHTIME\n", a)
			return 2
		}
		scens = append(scens, scenario{strings.Trim(p[0], "./"), p[1], p[2]})
	}
	root, err := output("", "git", "rev-parse", "--show-toplevel")
	if err != nil {
		fmt.Fprintln(stderr, "benchcmp:", err)
		return 1
	}
	root = strings.TrimSpace(root)
	tmp, err := os.MkdirTemp("", "benchcmp-")
	if err != nil {
		fmt.Fprintln(stderr, "benchcmp:", err)
		return 1
	}
	if *keep {
		fmt.Fprintln(stderr, "benchcmp: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	c := &cmp{root: root, tmp: tmp, baseDir: filepath.Join(tmp, "base"), stderr: stderr,
		env: map[string][]string{"base": splitList(*baseEnv), "cur": splitList(*curEnv)}}
	if err := c.prepare(*base, scens, splitList(*overlay)); err != nil {
		fmt.Fprintln(stderr, "benchcmp:", err)
		return 1
	}
	results := map[string]map[string][]benchcmp.Sample{} // scenario → version → samples
	var loads []string
	for r := 1; r <= *rounds; r++ {
		order := []string{"base", "cur"}
		if r%2 == 0 {
			order = []string{"cur", "base"}
		}
		for _, s := range scens {
			for _, v := range order {
				load := loadavg()
				loads = append(loads, load)
				m, err := c.runOne(v, s)
				if err != nil {
					fmt.Fprintf(stderr, "benchcmp: %s %s: %v\n", v, s.bench, err)
					return 1
				}
				fmt.Fprintf(stderr, "round %d %-4s %-28s load %s  %s\n", r, v, s.bench, load, brief(m))
				key := s.pkg + ":" + s.bench
				if results[key] == nil {
					results[key] = map[string][]benchcmp.Sample{}
				}
				results[key][v] = append(results[key][v], benchcmp.Sample{Round: r, Metrics: m})
			}
		}
	}
	fmt.Fprintf(stdout, "baseline %s, %d rounds, load average (1 min) before each run: %s\n", *base, *rounds, strings.Join(loads, " "))
	for _, v := range []string{"base", "cur"} {
		if len(c.env[v]) > 0 {
			fmt.Fprintf(stdout, "environment of %s: %s\n", v, strings.Join(c.env[v], " "))
		}
	}
	fmt.Fprintln(stdout)
	for _, s := range scens {
		key := s.pkg + ":" + s.bench
		fmt.Fprintf(stdout, "%s (%s)\n\n", key, s.benchtime)
		fmt.Fprintln(stdout, "| metric | baseline | current | ratio | ratio in each round |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|")
		for _, row := range benchcmp.Summarize(s.bench, results[key]["base"], results[key]["cur"], units) {
			var rr []string
			for _, x := range row.RoundRatios {
				rr = append(rr, fmt.Sprintf("%.2f", x))
			}
			fmt.Fprintf(stdout, "| %s | %s | %s | ×%.2f | %s |\n", row.Unit, num(row.Base), num(row.Cur), row.Ratio, strings.Join(rr, " "))
		}
		fmt.Fprintln(stdout)
	}
	return 0
}

type cmp struct {
	root, tmp, baseDir string
	stderr             io.Writer
	env                map[string][]string // by version: added to the runs' environment
}

// prepare extracts the baseline and builds both versions' test binaries.
func (c *cmp) prepare(rev string, scens []scenario, overlay []string) error {
	if err := os.MkdirAll(c.baseDir, 0o755); err != nil {
		return err
	}
	archive := exec.Command("git", "archive", "--format=tar", rev)
	archive.Dir = c.root
	untar := exec.Command("tar", "-x", "-C", c.baseDir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	untar.Stdin = pipe
	untar.Stderr = c.stderr
	archive.Stderr = c.stderr
	if err := untar.Start(); err != nil {
		return err
	}
	if err := archive.Run(); err != nil {
		return fmt.Errorf("git archive %s: %w", rev, err)
	}
	if err := untar.Wait(); err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	replace := map[string]string{}
	for _, f := range overlay {
		replace[filepath.Join(c.baseDir, f)] = filepath.Join(c.root, f)
	}
	ovl, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return err
	}
	ovlPath := filepath.Join(c.tmp, "overlay.json")
	if err := os.WriteFile(ovlPath, ovl, 0o644); err != nil {
		return err
	}
	var pkgs []string
	for _, s := range scens {
		if !slices.Contains(pkgs, s.pkg) {
			pkgs = append(pkgs, s.pkg)
		}
	}
	for _, p := range pkgs {
		fmt.Fprintf(c.stderr, "building %s (baseline and current)\n", p)
		if _, err := output(c.baseDir, "go", "test", "-c", "-overlay", ovlPath, "-o", c.binary("base", p), "./"+p); err != nil {
			return fmt.Errorf("building the baseline's %s: %w", p, err)
		}
		if _, err := output(c.root, "go", "test", "-c", "-o", c.binary("cur", p), "./"+p); err != nil {
			return fmt.Errorf("building the current %s: %w", p, err)
		}
	}
	return nil
}

func (c *cmp) binary(version, pkg string) string {
	return filepath.Join(c.tmp, version+"-"+strings.ReplaceAll(pkg, "/", "_")+".test")
}

// runOne runs one benchmark once and returns its metrics, with the whole
// process's CPU time added as proc-cpu-s.
func (c *cmp) runOne(version string, s scenario) (map[string]float64, error) {
	dir := filepath.Join(c.root, s.pkg)
	if version == "base" {
		dir = filepath.Join(c.baseDir, s.pkg)
	}
	cmd := exec.Command(c.binary(version, s.pkg), "-test.run=^$", "-test.bench=^Benchmark"+s.bench+"$",
		"-test.benchtime="+s.benchtime, "-test.count=1", "-test.benchmem")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), c.env[version]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, out.String())
	}
	rs, err := benchcmp.Parse(&out)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Name == "Benchmark"+s.bench {
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				r.Metrics["proc-cpu-s"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
			}
			return r.Metrics, nil
		}
	}
	return nil, errors.New("no result line in its output:\n" + out.String())
}

func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// brief shows the first metrics of units that a run reported.
func brief(m map[string]float64) string {
	var parts []string
	for _, u := range units {
		if v, ok := m[u]; ok && len(parts) < 4 {
			parts = append(parts, num(v)+" "+u)
		}
	}
	return strings.Join(parts, ", ")
}

func num(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
