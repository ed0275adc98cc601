package config

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

func FuzzDecode(f *testing.F) {
	if sample, err := os.ReadFile("testdata/sample.toml"); err == nil {
		f.Add(sample)
	}
	for _, tc := range errorCases() {
		f.Add([]byte(tc.src))
	}
	for _, seed := range []string{
		"a = [{b = \"\"\"\n\"\"\"}, '''x''']\n[[c.d]]\n[c.d.e]\n",
		"\"k\\u0041\" = 1\n'lit.key' = \"\"\"a\"\"\"\"\n[a.'b c'.\"d\"]\nx.y = {z = [1, [2]]}\n",
		"[config.p]\nt = 1979-05-27T07:32:00+02:00\nd = 07:32:00\n[[config.p.list]]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		scanLines(string(data)) // must not panic or hang on any input, valid or not
		// Every key the TOML decoder sees must be located by the scanner.
		if lines, deep := scanLines(string(data)); deep == 0 {
			if doc, err := parseTOML(data); err == nil {
				maxLine := bytes.Count(data, []byte("\n")) + 1
				for k, v := range doc {
					checkLines(t, lines, maxLine, keyPath{}.child(k), v)
				}
			}
		}
		cfg, err := Decode("fuzz.toml", data)
		if err != nil {
			var errs Errors
			if cfg != nil || !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Decode error %T with config %v: %v", err, cfg != nil, err)
			}
			for _, e := range errs {
				if e == nil || e.Msg == "" || e.File != "fuzz.toml" {
					t.Fatalf("bad problem %#v", e)
				}
			}
			_ = err.Error()
			return
		}
		a := cfg.Agentd
		for _, d := range []struct {
			name string
			v    int64
		}{
			{"request_timeout", int64(a.RequestTimeout)}, {"shutdown_delay", int64(a.ShutdownDelay)},
			{"callback_limit", int64(a.CallbackLimit)}, {"reload_drain", int64(a.ReloadDrain)},
			{"reload_debounce", int64(a.ReloadDebounce)},
		} {
			if d.v < 0 {
				t.Errorf("%s = %d, negative", d.name, d.v)
			}
		}
		if a.MailboxSize < 1 || a.ReloadDebounce <= 0 || a.RequestTimeout <= 0 || a.AllocLimit < minAllocLimit ||
			a.MemoryLimit != 0 && a.MemoryLimit < minMemoryLimit {
			t.Errorf("agentd out of range: %+v", a)
		}
		for _, x := range cfg.Exchange {
			switch x.Role {
			case RoleServer:
				if x.Listen == "" || len(x.Connect) > 0 {
					t.Errorf("bad server %+v", x)
				}
			case RoleClient:
				if x.Listen != "" || len(x.Connect) == 0 || x.Retry < 0 {
					t.Errorf("bad client %+v", x)
				}
			default:
				t.Errorf("bad role %+v", x)
			}
		}
		for name, tbl := range cfg.Tables {
			if tbl == nil {
				t.Errorf("config.%s is nil", name)
			}
			checkPlain(t, tbl)
		}
	})
}

// checkLines fails when the scanner has no line for p or one of its children.
func checkLines(t *testing.T, lines lineTable, maxLine int, p keyPath, v any) {
	if line, ok := lines[p.String()]; !ok || line < 1 || line > maxLine {
		t.Fatalf("no line for %s (got %d, %v)", p, line, ok)
	}
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			checkLines(t, lines, maxLine, p.child(k), e)
		}
	case []map[string]any:
		for i, e := range v {
			checkLines(t, lines, maxLine, p.index(i), e)
		}
	case []any:
		for i, e := range v {
			checkLines(t, lines, maxLine, p.index(i), e)
		}
	}
}

// checkPlain fails on any value Tables must not hold.
func checkPlain(t *testing.T, v any) {
	switch v := v.(type) {
	case bool, int64, float64, string:
	case []any:
		for _, e := range v {
			checkPlain(t, e)
		}
	case map[string]any:
		for _, e := range v {
			checkPlain(t, e)
		}
	default:
		t.Errorf("unexpected %T in a config table", v)
	}
}
