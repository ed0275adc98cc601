package config

import "testing"

func TestScanLines(t *testing.T) {
	src := "\uFEFF# comment [not.a.table]\n" + // 1
		"top = 1\n" + // 2
		"a.b.c = \"x # not a comment\" # comment\n" + // 3
		"\"quoted.key\" = 'lit'\n" + // 4
		"\"esc\\u00e9\" = 1\n" + // 5
		"[tbl]  # header\n" + // 6
		"s = \"\"\"\n" + // 7
		"line [x] = 2\n" + // 8
		"\"\"\"\n" + // 9
		"after = 3\n" + // 10
		"arr = [\n" + // 11
		"  1, # one\n" + // 12
		"  { k = 2 },\n" + // 13
		"  [3, 4],\n" + // 14
		"]\n" + // 15
		"lit = '''\n" + // 16
		"'''\n" + // 17
		"inl = { x = 1, y.z = { w = 2 } }\n" + // 18
		"[[aot]]\n" + // 19
		"v = 1\n" + // 20
		"[[aot.sub]]\n" + // 21
		"[[aot]]\n" + // 22
		"[[aot.sub]]\n" + // 23
		"[[aot.sub]]\n" + // 24
		"  [aot.sub.t]\n" + // 25
		"u = 1\n" + // 26
		"[ 'sp' . \"x y\" ]\n" + // 27
		"ml = \"\"\"a\\\n" + // 28
		"  b\"\"\"\"\"\n" + // 29
		"next = 1\n" + // 30
		"crlf = 1\r\n" + // 31
		"k2 = 2\r\n" // 32
	want := map[string]int{
		"top":               2,
		"a":                 3,
		"a.b":               3,
		"a.b.c":             3,
		`"quoted.key"`:      4,
		`"escé"`:            5,
		"tbl":               6,
		"tbl.s":             7,
		"tbl.after":         10,
		"tbl.arr":           11,
		"tbl.arr[1]":        12,
		"tbl.arr[2]":        13,
		"tbl.arr[2].k":      13,
		"tbl.arr[3]":        14,
		"tbl.arr[3][2]":     14,
		"tbl.lit":           16,
		"tbl.inl.y.z.w":     18,
		"aot":               19,
		"aot[1]":            19,
		"aot[1].v":          20,
		"aot[1].sub[1]":     21,
		"aot[2]":            22,
		"aot[2].sub":        23,
		"aot[2].sub[1]":     23,
		"aot[2].sub[2]":     24,
		"aot[2].sub[2].t":   25,
		"aot[2].sub[2].t.u": 26,
		`sp."x y"`:          27,
		`sp."x y".ml`:       28,
		`sp."x y".next`:     30,
		`sp."x y".crlf`:     31,
		`sp."x y".k2`:       32,
	}
	if _, err := parseTOML([]byte(src)); err != nil {
		t.Fatalf("test document is not valid TOML: %v", err)
	}
	got, deep := scanLines(src)
	if deep != 0 {
		t.Errorf("tooDeep = %d", deep)
	}
	for k, line := range want {
		if got[k] != line {
			t.Errorf("line of %s = %d, want %d", k, got[k], line)
		}
	}
	for _, k := range []string{"line", "tbl.line", "x"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s found inside a string or comment", k)
		}
	}
	if got.lookup(keyPath{"tbl", "arr", "[2]", "missing"}) != 13 {
		t.Errorf("lookup does not fall back to the parent's line")
	}
	if got.lookup(keyPath{"nowhere"}) != 0 {
		t.Errorf("lookup of an unknown top-level key is not 0")
	}
}

func TestUnescapeBasic(t *testing.T) {
	for raw, want := range map[string]string{
		`plain`:            "plain",
		`a\tb\"c\\d`:       "a\tb\"c\\d",
		`\u00e9\U0001F600`: "é😀",
		`\x41\e`:           "A\x1b",
		`bad\q\u12`:        `bad\q\u12`,
		`end\`:             `end\`,
	} {
		if got := unescapeBasic(raw); got != want {
			t.Errorf("unescapeBasic(%q) = %q, want %q", raw, got, want)
		}
	}
}
