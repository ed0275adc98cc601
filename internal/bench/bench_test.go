package bench

import (
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// the command name may hold spaces and parentheses
	stat := "4242 (agentd (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 100 0 0"
	d, err := parseStatCPU(stat)
	if err != nil || d != 3250*time.Millisecond {
		t.Errorf("got %v, %v; want 3.25s", d, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 11 12"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestVerdicts(t *testing.T) {
	for _, c := range []struct {
		row  Row
		want string
	}{
		{Row{Values: []float64{1, 3, 2}, AtLeast: 2}, "met"},
		{Row{Values: []float64{1, 3, 1.5}, AtLeast: 2}, "MISSED (below target)"},
		{Row{Values: []float64{3, 3, 3}, AtLeast: 2, MinRatio: 0.5, BaselineValues: []float64{7}}, "MISSED (ratio below target)"},
		{Row{Values: []float64{0.05, 0.2, 0.05}, AtMost: 0.1}, "met"},
		{Row{Values: []float64{0.05, 0.2, 0.05}, AtMost: 0.1, Worst: true}, "MISSED (over target)"},
		{Row{Values: []float64{5}}, ""},
		{Row{AtLeast: 1}, "no figure"},
	} {
		r := c.row
		r.finish()
		if r.Verdict != c.want {
			t.Errorf("%+v: verdict %q, want %q", c.row, r.Verdict, c.want)
		}
	}
	r := Row{Values: []float64{4, 1, 3, 2}, BaselineValues: []float64{5, 1, 4}}
	r.finish()
	if r.Median != 2.5 || r.Min != 1 || r.Max != 4 || r.BaselineMedian != 4 || r.Ratio != 2.5/4 {
		t.Errorf("%+v", r)
	}
}

func TestSelected(t *testing.T) {
	s, err := selected([]string{"request", "withdraw"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range s {
		names = append(names, x.Name)
	}
	if got := strings.Join(names, ","); got != "request-1,request-1-relay,request-64,request-64-relay,withdraw" {
		t.Errorf("got %s", got)
	}
	if _, err := selected([]string{"local", "requests"}); err == nil || !strings.Contains(err.Error(), `"requests"`) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestConfigFile(t *testing.T) {
	c := agentConfig{connect: "nats://127.0.0.1:4222", scripts: map[string]string{"pub.lua": script("pub")},
		config: map[string]map[string]any{"pub": {"subs": 10, "seconds": 0.05, "names": "a,b"}}}
	got := c.toml(time.Second)
	for _, want := range []string{`scripts = ["scripts"]`, `role = "client"`, `connect = ["nats://127.0.0.1:4222"]`, `retry = "1s"`,
		"[config.pub]\nnames = \"a,b\"\nseconds = 0.05\nsubs = 10\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	a, err := hubAddr(line{text: `time=2026-01-01T00:00:00Z level=INFO msg="exchange hub listening" endpoint="server 127.0.0.1:0" addr=127.0.0.1:41234 group=""`})
	if err != nil || a != "127.0.0.1:41234" {
		t.Errorf("hub address %q, %v", a, err)
	}
}
