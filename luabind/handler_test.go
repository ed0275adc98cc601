package luabind

import (
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h, err := NewHandler(`
local n = 0
return function(subject, c)
  n = n + 1
  if subject == "boom" then error("broken on purpose") end
  return {n = n, s = subject, name = c.name, sum = c.seq + c.count}
end`)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	content := map[string]any{"seq": int64(3), "name": "sensor", "ok": true, "value": 1.5, "count": int64(4)}
	for i := 1; i <= 2; i++ {
		r, err := h.Call("bench.x", content)
		if err != nil {
			t.Fatal(err)
		}
		m := r.(map[string]any)
		if m["n"] != int64(i) || m["s"] != "bench.x" || m["name"] != "sensor" || m["sum"] != int64(7) {
			t.Errorf("call %d: %v", i, m)
		}
	}
	if _, err := h.Call("boom", nil); err == nil || !strings.Contains(err.Error(), "broken on purpose") {
		t.Errorf("error from the function: %v", err)
	}
	if r, err := h.Call("bench.x", content); err != nil || r.(map[string]any)["n"] != int64(4) {
		t.Errorf("after an error: %v %v", r, err)
	}
}

func TestHandlerChunk(t *testing.T) {
	for src, want := range map[string]string{
		"return 42":     "must return a function, got number",
		"return (":      "syntax error",
		"error('nope')": "nope",
	} {
		if _, err := NewHandler(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}
