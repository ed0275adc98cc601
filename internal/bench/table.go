package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// A Row is one figure of the table: its value in each round (or
// repetition), the same scenario's baseline in the same run, CPU time
// per operation, the load average at each measurement, and the verdict
// against the target.
type Row struct {
	Scenario string    `json:"scenario"`
	Figure   string    `json:"figure"`
	Unit     string    `json:"unit"` // "/s" for rates, "s" for times
	Values   []float64 `json:"values"`
	Median   float64   `json:"median"`
	Min      float64   `json:"min"`
	Max      float64   `json:"max"`

	Target   string  `json:"target,omitempty"`
	AtLeast  float64 `json:"at_least,omitempty"`  // the median must reach it
	AtMost   float64 `json:"at_most,omitempty"`   // the median (Worst: every value) must stay within it
	MinRatio float64 `json:"min_ratio,omitempty"` // Median/BaselineMedian must reach it
	Worst    bool    `json:"worst,omitempty"`     // AtMost holds for every value, not the median

	Baseline       string    `json:"baseline,omitempty"` // what the baseline is
	BaselineValues []float64 `json:"baseline_values,omitempty"`
	BaselineMedian float64   `json:"baseline_median,omitempty"`
	Ratio          float64   `json:"ratio,omitempty"` // Median / BaselineMedian

	CPUPerOp             []float64            `json:"cpu_per_op_s,omitempty"` // seconds of CPU (every process of the scenario) per operation
	BaselineCPUPerOp     []float64            `json:"baseline_cpu_per_op_s,omitempty"`
	CPUByProcess         map[string][]float64 `json:"cpu_per_op_by_process_s,omitempty"` // the same for each process, by its role
	BaselineCPUByProcess map[string][]float64 `json:"baseline_cpu_per_op_by_process_s,omitempty"`

	Load    []float64 `json:"load1"` // the 1-minute load average after each measurement
	Verdict string    `json:"verdict"`
	Note    string    `json:"note,omitempty"`
}

// finish computes the medians, the ratio and the verdict.
func (r *Row) finish() {
	r.Median, r.Min, r.Max = median(r.Values), minOf(r.Values), maxOf(r.Values)
	if len(r.BaselineValues) > 0 {
		r.BaselineMedian = median(r.BaselineValues)
		if r.BaselineMedian != 0 {
			r.Ratio = r.Median / r.BaselineMedian
		}
	}
	switch {
	case len(r.Values) == 0:
		r.Verdict = "no figure"
	case r.AtLeast == 0 && r.AtMost == 0 && r.MinRatio == 0:
		r.Verdict = ""
	default:
		var missed []string
		if r.AtLeast > 0 && r.Median < r.AtLeast {
			missed = append(missed, "below target")
		}
		v := r.Median
		if r.Worst {
			v = r.Max
		}
		if r.AtMost > 0 && v > r.AtMost {
			missed = append(missed, "over target")
		}
		if r.MinRatio > 0 && r.Ratio < r.MinRatio {
			missed = append(missed, "ratio below target")
		}
		r.Verdict = "met"
		if len(missed) > 0 {
			r.Verdict = "MISSED (" + strings.Join(missed, ", ") + ")"
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Min(v)
}

func maxOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}

// format writes a value of unit in a readable form.
func format(v float64, unit string) string {
	switch unit {
	case "s":
		return formatDuration(v)
	case "/s":
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2f M/s", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.1f k/s", v/1e3)
		}
		return fmt.Sprintf("%.0f /s", v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

func formatDuration(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}

func rangeOf(v []float64, unit string) string {
	if len(v) < 2 {
		return ""
	}
	return " (" + format(minOf(v), unit) + " – " + format(maxOf(v), unit) + ")"
}

// WriteTable writes rows as a Markdown table.
func WriteTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| scenario | figure | measured: median (min – max) | target | baseline in the same run: median | ratio | CPU/op (baseline's) | load 1 min | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		measured := "—"
		if len(r.Values) > 0 {
			measured = format(r.Median, r.Unit) + rangeOf(r.Values, r.Unit)
		}
		base, ratio := "—", "—"
		if r.Baseline != "" {
			base = r.Baseline
			if len(r.BaselineValues) > 0 {
				base += ": " + format(r.BaselineMedian, r.Unit) + rangeOf(r.BaselineValues, r.Unit)
			}
			if r.Ratio != 0 {
				ratio = fmt.Sprintf("%.0f %%", r.Ratio*100)
			}
		}
		cpu := "—"
		if len(r.CPUPerOp) > 0 {
			cpu = formatDuration(median(r.CPUPerOp))
			if len(r.BaselineCPUPerOp) > 0 {
				cpu += " (" + formatDuration(median(r.BaselineCPUPerOp)) + ")"
			}
		}
		load := "—"
		if len(r.Load) > 0 {
			load = fmt.Sprintf("%.2f", minOf(r.Load))
			if maxOf(r.Load) != minOf(r.Load) {
				load += fmt.Sprintf("–%.2f", maxOf(r.Load))
			}
		}
		target := r.Target
		if target == "" {
			target = "—"
		}
		verdict := r.Verdict
		if verdict == "" {
			verdict = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Scenario, r.Figure, measured, target, base, ratio, cpu, load, verdict)
	}
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(w, "\n%s: %s", r.Scenario, r.Note)
		}
	}
	fmt.Fprintln(w)
}

// Report is what -json prints.
type Report struct {
	Started  time.Time `json:"started"`
	Machine  string    `json:"machine"`
	Command  string    `json:"command"`
	Rows     []Row     `json:"rows"`
	Finished time.Time `json:"finished"`
}

// WriteJSON writes rep as indented JSON.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
