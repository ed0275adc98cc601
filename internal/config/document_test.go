package config

import (
	"errors"
	"reflect"
	"testing"
)

// A Document gives other TOML files config.toml's strictness and errors.
func TestDocument(t *testing.T) {
	src := `name = "x"
Count = 3
list = ["a", 2]
wait = 5
[sub]
on = "yes"
t = 2024-01-02T03:04:05Z
`
	doc, err := ParseDocument("other.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var top Key
	var (
		name string
		list []string
		sub  map[string]any
	)
	doc.Table(top, doc.Root,
		Field{"name", func(k Key, v any) { name, _ = doc.String(k, v) }},
		Field{"count", func(k Key, v any) { doc.Int(k, v) }},
		Field{"list", func(k Key, v any) { list, _ = doc.Strings(k, v, "an array of strings") }},
		Field{"wait", func(k Key, v any) { doc.Duration(k, v) }},
		Field{"sub", func(k Key, v any) {
			m, _ := doc.TableValue(k, v)
			sub = Plain(m)
			doc.Table(k, m, Field{"on", func(k Key, v any) { doc.Bool(k, v) }}, Field{"t", func(Key, any) {}})
		}},
	)
	err = doc.Err()
	want := `other.toml:2: Count: unknown key (keys are case-sensitive; did you mean "count"?)
other.toml:3: list[2]: expected a string, got integer 2
other.toml:4: wait: bare number 5 is not a duration; write "5s"
other.toml:6: sub.on: expected a boolean, got string "yes"`
	if err == nil || err.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, want)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 2 || ce.Key != "Count" {
		t.Errorf("errors.As: %+v", ce)
	}
	if name != "x" || !reflect.DeepEqual(list, []string{"a"}) || sub["t"] != "2024-01-02T03:04:05Z" {
		t.Errorf("values %q %v %v", name, list, sub)
	}
	if doc.Line(top.Child("sub").Child("t")) != 7 || doc.Line(top.Child("list").Index(1)) != 3 || top.Child("a b").Index(0).String() != `"a b"[1]` {
		t.Errorf("lines or keys")
	}
	if _, err := ParseDocument("bad.toml", []byte("a = \n")); err == nil || err.Error()[:10] != "bad.toml:1" {
		t.Errorf("syntax error: %v", err)
	}
}
