package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/agentd/agentd/internal/bench"
)

// agentd bench runs every scenario, with real processes, for a moment
// each. Only that each scenario measured something is checked: the
// figures are for BENCHMARKS.md, not for tests.
func TestBenchRunsEveryScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts some twenty processes")
	}
	cmd := exec.Command(binary, "bench", "-time", "50ms", "-rounds", "1", "-repeat", "1", "-retry", "100ms", "-json", "-q")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("agentd bench: %v\nstderr:\n%s", err, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	seen := map[string]bool{}
	for _, r := range rep.Rows {
		seen[r.Scenario] = true
		if len(r.Values) != 1 || r.Median <= 0 || r.Verdict == "no figure" {
			t.Errorf("%s / %s: values %v, verdict %q", r.Scenario, r.Figure, r.Values, r.Verdict)
		}
		if r.Baseline != "" && (len(r.BaselineValues) != 1 || r.BaselineMedian <= 0 || r.Ratio <= 0) {
			t.Errorf("%s / %s: baseline %v, ratio %v", r.Scenario, r.Figure, r.BaselineValues, r.Ratio)
		}
		if r.Unit == "/s" && (len(r.CPUPerOp) != 1 || r.CPUPerOp[0] < 0) {
			t.Errorf("%s: CPU per operation %v", r.Scenario, r.CPUPerOp)
		}
		if r.Note != "" {
			t.Errorf("%s: %s", r.Scenario, r.Note) // a report was lost
		}
	}
	for _, s := range bench.Scenarios() {
		if !seen[s.Name] {
			t.Errorf("no row for scenario %s", s.Name)
		}
	}
	if !strings.Contains(rep.Command, "-time 50ms") {
		t.Errorf("command %q", rep.Command)
	}
}

func TestBenchUsage(t *testing.T) {
	if code, _, errs := inProcess("bench", "-run", "nothing"); code != exitFailure || !strings.Contains(errs, `unknown scenario "nothing"`) {
		t.Errorf("unknown scenario: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := inProcess("bench", "extra"); code != exitUsage || !strings.Contains(errs, `unexpected argument "extra"`) {
		t.Errorf("extra argument: exit %d, stderr %q", code, errs)
	}
	code, out, _ := inProcess("bench", "-list")
	if code != exitOK {
		t.Fatalf("-list: exit %d", code)
	}
	for _, s := range bench.Scenarios() {
		if !strings.Contains(out, s.Name+" ") {
			t.Errorf("-list lacks %s:\n%s", s.Name, out)
		}
	}
}
