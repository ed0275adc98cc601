package logging

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	for _, name := range []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"} {
		l, err := ParseLevel(name)
		if err != nil || LevelName(l) != name {
			t.Errorf("%s: level %v, name %q, err %v", name, l, LevelName(l), err)
		}
	}
	if _, err := ParseLevel("verbose"); err == nil {
		t.Error("unknown level accepted")
	}
	// OSE numbers: 0 emergency ... 7 debug; out of range clamps
	want := []string{"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"}
	for n, w := range want {
		if got := LevelName(FromOSE(n)); got != w {
			t.Errorf("FromOSE(%d) = %s, want %s", n, got, w)
		}
	}
	if LevelName(FromOSE(-3)) != "emergency" || LevelName(FromOSE(42)) != "debug" {
		t.Error("out-of-range OSE levels not clamped")
	}
}

func TestLoggerWritesLevelNamesAndFilters(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "text", LevelNotice)
	log.Info("hidden")
	log.Log(context.Background(), LevelNotice, "shown")
	log.Log(context.Background(), LevelCritical, "bad")
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, "level=notice msg=shown") || !strings.Contains(out, "level=critical msg=bad") {
		t.Fatalf("output:\n%s", out)
	}
	buf.Reset()
	New(&buf, "json", LevelInfo).Warn("w")
	if !strings.Contains(buf.String(), `"level":"warning"`) {
		t.Fatalf("json output: %s", buf.String())
	}
}
