package benchcmp

import (
	"strings"
	"testing"
)

const output = `goos: linux
pkg: github.com/agentd/agentd/luabind
BenchmarkReportsOneToOne-2   	  100000	      4741 ns/op	      2753 B/delivery	        52.14 allocs/delivery	      8422 cpu-ns/delivery	    210891 delivery/s	    2753 B/op	      52 allocs/op
BenchmarkIdleAgents
BenchmarkIdleAgents-2    	  1	      3787 ns/op	59.14 KiB-RSS/agent
PASS
`

func TestParse(t *testing.T) {
	rs, err := Parse(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(rs), rs)
	}
	r := rs[0]
	if r.Name != "BenchmarkReportsOneToOne" || r.N != 100000 || r.Metrics["cpu-ns/delivery"] != 8422 || r.Metrics["allocs/delivery"] != 52.14 || len(r.Metrics) != 7 {
		t.Fatalf("first result %+v", r)
	}
	if rs[1].Name != "BenchmarkIdleAgents" || rs[1].Metrics["KiB-RSS/agent"] != 59.14 {
		t.Fatalf("second result %+v", rs[1])
	}
	if _, err := Parse(strings.NewReader("BenchmarkX-2 10 abc ns/op\n")); err == nil {
		t.Fatal("a value that is not a number was accepted")
	}
}

func TestSummarize(t *testing.T) {
	base := []Sample{{1, map[string]float64{"cpu-ns/delivery": 100, "delivery/s": 10, "only-base": 1}}, {2, map[string]float64{"cpu-ns/delivery": 200, "delivery/s": 20}}, {3, map[string]float64{"cpu-ns/delivery": 150, "delivery/s": 15}}}
	cur := []Sample{{1, map[string]float64{"cpu-ns/delivery": 50, "delivery/s": 20, "only-cur": 1}}, {2, map[string]float64{"cpu-ns/delivery": 120, "delivery/s": 30}}, {3, map[string]float64{"cpu-ns/delivery": 60, "delivery/s": 30}}}
	rows := Summarize("B", base, cur, []string{"delivery/s", "cpu-ns/delivery"})
	if len(rows) != 2 || rows[0].Unit != "delivery/s" || rows[1].Unit != "cpu-ns/delivery" {
		t.Fatalf("rows %+v", rows)
	}
	c := rows[1]
	if c.Base != 150 || c.Cur != 60 || c.Ratio != 0.4 || !c.LowerIsBetter || len(c.RoundRatios) != 3 || c.MinR != 0.4 || c.MaxR != 0.6 {
		t.Fatalf("cpu row %+v", c)
	}
	if rows[0].LowerIsBetter || rows[0].Ratio != 30.0/15 {
		t.Fatalf("rate row %+v", rows[0])
	}
	if Median([]float64{3, 1, 2, 4}) != 2.5 || Median(nil) != 0 {
		t.Fatal("median")
	}
}
