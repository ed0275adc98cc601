// Package benchcmp runs Go benchmarks of two versions of the module side
// by side and compares them. On a machine shared with other work, absolute
// figures move by ±50 % between runs; a ratio between two versions measured
// in the same sitting, alternating, holds. cmd/benchcmp is its command.
//
// It has no state of its own: Parse reads `go test -bench` output, and
// Summarize turns rounds of results into medians and ratios.
package benchcmp

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// A Result is one benchmark line: its name (without the -GOMAXPROCS
// suffix), b.N and every metric by unit ("ns/op", "cpu-ns/delivery", ...).
type Result struct {
	Name    string
	N       int64
	Metrics map[string]float64
}

// Parse reads the benchmark lines of `go test -bench` output.
func Parse(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue // a name line without figures (a sub-benchmark header, a log line)
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		res := Result{Name: name, N: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchcmp: %s: value %q of %q is not a number", name, f[i], f[i+1])
			}
			res.Metrics[f[i+1]] = v
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// A Sample is one run of one benchmark in one version.
type Sample struct {
	Round   int
	Metrics map[string]float64
}

// A Row compares one metric of one benchmark: the medians of each version
// over the rounds, the ratio of the medians (current / base), and the
// ratio within each round (current and base measured one after the other).
type Row struct {
	Bench, Unit   string
	Base, Cur     float64
	Ratio         float64
	RoundRatios   []float64
	BaseN, CurN   int
	MinR, MaxR    float64
	LowerIsBetter bool
}

// Summarize compares base and cur samples of one benchmark, for every
// unit that both report, in the order of units (then the others, sorted).
func Summarize(bench string, base, cur []Sample, units []string) []Row {
	have := func(s []Sample, u string) bool {
		for _, x := range s {
			if _, ok := x.Metrics[u]; ok {
				return true
			}
		}
		return false
	}
	var all []string
	seen := map[string]bool{}
	for _, u := range units {
		if !seen[u] && have(base, u) && have(cur, u) {
			all = append(all, u)
			seen[u] = true
		}
	}
	var rest []string
	for _, s := range cur {
		for u := range s.Metrics {
			if !seen[u] && have(base, u) {
				rest = append(rest, u)
				seen[u] = true
			}
		}
	}
	slices.Sort(rest)
	all = append(all, rest...)
	var rows []Row
	for _, u := range all {
		row := Row{Bench: bench, Unit: u, LowerIsBetter: lowerIsBetter(u)}
		var bv, cv []float64
		byRound := map[int]float64{}
		for _, s := range base {
			if v, ok := s.Metrics[u]; ok {
				bv = append(bv, v)
				byRound[s.Round] = v
			}
		}
		for _, s := range cur {
			v, ok := s.Metrics[u]
			if !ok {
				continue
			}
			cv = append(cv, v)
			if b, ok := byRound[s.Round]; ok && b != 0 {
				row.RoundRatios = append(row.RoundRatios, v/b)
			}
		}
		row.Base, row.Cur = Median(bv), Median(cv)
		row.BaseN, row.CurN = len(bv), len(cv)
		if row.Base != 0 {
			row.Ratio = row.Cur / row.Base
		}
		if len(row.RoundRatios) > 0 {
			row.MinR, row.MaxR = slices.Min(row.RoundRatios), slices.Max(row.RoundRatios)
		}
		rows = append(rows, row)
	}
	return rows
}

// lowerIsBetter tells which way a unit improves: costs and latencies go
// down, rates go up.
func lowerIsBetter(unit string) bool {
	return !strings.HasSuffix(unit, "/s") && unit != "cores"
}

// Median returns the median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
