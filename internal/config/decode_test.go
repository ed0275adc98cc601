package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadSample(t *testing.T) {
	cfg, err := Load("testdata/sample.toml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File: filepath.Join(dir, "sample.toml"),
		Dir:  dir,
		Agentd: Agentd{
			Scripts:        []Script{{Spec: "scripts/examples", Path: filepath.Join(dir, "scripts/examples"), Line: 2}},
			PacksDir:       filepath.Join(dir, "packs"),
			HotReload:      true,
			RequestTimeout: 30 * time.Second,
			ShutdownDelay:  time.Second,
			CallbackLimit:  5 * time.Second,
			AllocLimit:     64 << 20,
			MemoryLimit:    4 << 30,
			ReloadDrain:    2 * time.Second,
			ReloadDebounce: 100 * time.Millisecond,
			MailboxSize:    10000,
		},
		Log: Log{Level: "info", Format: "text", File: ""},
		Exchange: []Exchange{
			{Role: "server", Listen: "127.0.0.1:11111", Line: 15},
			{Role: "client", Connect: []string{"nats://127.0.0.1:11111"}, Retry: 5 * time.Second, Line: 21},
		},
		Tables: map[string]map[string]any{"heartbeat": {"interval": int64(10)}},
		name:   "testdata/sample.toml",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load(sample):\n got %+v\nwant %+v", cfg, want)
	}
	if got := cfg.Table("heartbeat"); !reflect.DeepEqual(got, map[string]any{"interval": int64(10)}) {
		t.Errorf("Table(heartbeat) = %v", got)
	}
	if got := cfg.Table("nope"); got != nil {
		t.Errorf("Table(nope) = %v, want nil", got)
	}
}

func TestDecodeEmptyGivesDefaults(t *testing.T) {
	cfg, err := Decode("conf/agentd.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("conf")
	want := Default()
	want.File, want.Dir, want.name = filepath.Join(dir, "agentd.toml"), dir, "conf/agentd.toml"
	want.Agentd.PacksDir = filepath.Join(dir, "packs")
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Decode(empty):\n got %+v\nwant %+v", cfg, want)
	}
}

func TestDecodeValues(t *testing.T) {
	src := `
[agentd]
scripts = ["a.lua", "/abs/b.lua", "lib/*.lua"]
packs_dir = "/opt/packs"
callback_limit = "0s"
alloc_limit = "1.5KiB"
memory_limit = "0"
reload_drain = "0s"
reload_debounce = "10s"
mailbox_size = 1

[log]
level = "warning"
format = "json"
file = "logs/agentd.log"

[[exchange]]
role = "server"
token = "s3cret"
group = "blue"
tls = { cert = "tls/cert.pem", key = "/etc/key.pem" }

[[exchange]]
role = "client"
connect = ["nats://a:1", "tls://b.example:4222"]
retry = "250ms"
[exchange.tls]
ca = "ca.pem"

[sandbox]
allow_io = true
allow_exec = true

[config.report]
when = 1979-05-27T07:32:00Z
day = 1979-05-27
at = 07:32:00
local = 1979-05-27T07:32:00.5
list = [1, "two", 3.5, [true]]
nested = { deep = { x = 1 } }
[[config.report.items]]
name = "a"
[[config.report.items]]
name = "b"
`
	cfg, err := Decode("/etc/agentd/config.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Agentd
	if got := []string{a.Scripts[0].Path, a.Scripts[1].Path, a.Scripts[2].Path}; !reflect.DeepEqual(got,
		[]string{"/etc/agentd/a.lua", "/abs/b.lua", "/etc/agentd/lib/*.lua"}) {
		t.Errorf("script paths = %q", got)
	}
	if a.Scripts[2].Spec != "lib/*.lua" || a.Scripts[2].Line != 3 {
		t.Errorf("scripts[2] = %+v", a.Scripts[2])
	}
	if a.PacksDir != "/opt/packs" || a.CallbackLimit != 0 || a.AllocLimit != 1536 || a.MemoryLimit != 0 ||
		a.ReloadDrain != 0 || a.ReloadDebounce != 10*time.Second || a.MailboxSize != 1 {
		t.Errorf("agentd = %+v", a)
	}
	if want := (Log{Level: "warning", Format: "json", File: "/etc/agentd/logs/agentd.log"}); cfg.Log != want {
		t.Errorf("log = %+v, want %+v", cfg.Log, want)
	}
	wantX := []Exchange{
		{Role: "server", Listen: "127.0.0.1:11111", Token: "s3cret", Group: "blue",
			TLS: TLS{Cert: "/etc/agentd/tls/cert.pem", Key: "/etc/key.pem"}, Line: 17},
		{Role: "client", Connect: []string{"nats://a:1", "tls://b.example:4222"}, Retry: 250 * time.Millisecond,
			TLS: TLS{CA: "/etc/agentd/ca.pem"}, Line: 23},
	}
	if !reflect.DeepEqual(cfg.Exchange, wantX) {
		t.Errorf("exchange =\n %+v\nwant\n %+v", cfg.Exchange, wantX)
	}
	if !cfg.Sandbox.AllowIO || !cfg.Sandbox.AllowExec {
		t.Errorf("sandbox = %+v", cfg.Sandbox)
	}
	wantT := map[string]any{
		"when":   "1979-05-27T07:32:00Z",
		"day":    "1979-05-27",
		"at":     "07:32:00",
		"local":  "1979-05-27T07:32:00.5",
		"list":   []any{int64(1), "two", 3.5, []any{true}},
		"nested": map[string]any{"deep": map[string]any{"x": int64(1)}},
		"items":  []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}},
	}
	if got := cfg.Table("report"); !reflect.DeepEqual(got, wantT) {
		t.Errorf("config.report =\n %#v\nwant\n %#v", got, wantT)
	}
}

// errorCase is a file with exactly one problem.
type errorCase struct {
	name string
	src  string
	line int
	key  string
	msg  string // exact, or "" to skip
}

func errorCases() []errorCase {
	return []errorCase{
		{"unknown key", "[agentd]\nfoo = 1\n", 2, "agentd.foo", "unknown key"},
		{"unknown section", "\n\n[agentz.x]\n", 3, "agentz", `unknown key (did you mean "agentd"?)`},
		{"wrong-case key", "[agentd]\nHot_Reload = true\n", 2, "agentd.Hot_Reload",
			`unknown key (keys are case-sensitive; did you mean "hot_reload"?)`},
		{"wrong-case header", "# settings\n[Agentd]\nhot_reload = true\n", 2, "Agentd",
			`unknown key (keys are case-sensitive; did you mean "agentd"?)`},
		{"typo", "[agentd]\n\nhot_relaod = true\n", 3, "agentd.hot_relaod", `unknown key (did you mean "hot_reload"?)`},
		{"quoted unknown key", "[log]\n\"my key\" = 1\n", 2, `log."my key"`, "unknown key"},
		{"wrong type", "[agentd]\nhot_reload = \"yes\"\n", 2, "agentd.hot_reload", `expected a boolean, got string "yes"`},
		{"wrong type dotted", "agentd.packs_dir = 5\n", 1, "agentd.packs_dir", "expected a string, got integer 5"},
		{"wrong type inline", "agentd = { mailbox_size = 1.5 }\n", 1, "agentd.mailbox_size", "expected an integer, got float 1.5"},
		{"section not a table", "log = \"debug\"\n", 1, "log", `expected a table, got string "debug"`},
		{"bare integer duration", "[agentd]\nrequest_timeout = 5\n", 2, "agentd.request_timeout",
			`bare number 5 is not a duration; write "5s"`},
		{"bare float duration", "[agentd]\nshutdown_delay = 1.5\n", 2, "agentd.shutdown_delay",
			`bare number 1.5 is not a duration; write "1.5s"`},
		{"negative duration", "[agentd]\nshutdown_delay = \"-1s\"\n", 2, "agentd.shutdown_delay", `negative duration "-1s"`},
		{"bad duration", "[agentd]\nreload_drain = \"2 seconds\"\n", 2, "agentd.reload_drain",
			`invalid duration "2 seconds" (write e.g. "5s", "250ms" or "1m30s")`},
		{"zero request timeout", "[agentd]\nrequest_timeout = \"0s\"\n", 2, "agentd.request_timeout", `must be more than 0, got "0s"`},
		{"zero debounce", "[agentd]\nreload_debounce = \"0s\"\n", 2, "agentd.reload_debounce", `must be more than 0, got "0s"`},
		{"long debounce", "[agentd]\nreload_debounce = \"11s\"\n", 2, "agentd.reload_debounce", `must be at most 10s, got "11s"`},
		{"mailbox_size 0", "[agentd]\nmailbox_size = 0\n", 2, "agentd.mailbox_size", "must be at least 1, got 0"},
		{"bare size", "[agentd]\nalloc_limit = 65536\n", 2, "agentd.alloc_limit",
			`bare number 65536 is not a size; write e.g. "64MiB", "512KiB" or "2GiB"`},
		{"decimal size unit", "[agentd]\nmemory_limit = \"2GB\"\n", 2, "agentd.memory_limit",
			`invalid size "2GB" (write e.g. "64MiB", "512KiB" or "2GiB"; units are B, KiB, MiB, GiB and TiB)`},
		{"negative size", "[agentd]\nalloc_limit = \"-1MiB\"\n", 2, "agentd.alloc_limit",
			`invalid size "-1MiB" (write e.g. "64MiB", "512KiB" or "2GiB"; units are B, KiB, MiB, GiB and TiB)`},
		{"huge size", "[agentd]\nalloc_limit = \"99999999TiB\"\n", 2, "agentd.alloc_limit", `size "99999999TiB" is too large`},
		{"size type", "[agentd]\nalloc_limit = true\n", 2, "agentd.alloc_limit", `expected a size string such as "64MiB", got boolean true`},
		{"small alloc_limit", "[agentd]\nalloc_limit = \"100B\"\n", 2, "agentd.alloc_limit", `must be at least 1KiB, got "100B"`},
		{"small memory_limit", "[agentd]\nmemory_limit = \"512KiB\"\n", 2, "agentd.memory_limit", `must be 0 (no limit) or at least 1MiB, got "512KiB"`},
		{"mailbox_size huge", "[agentd]\nmailbox_size = 1_000_000_000\n", 2, "agentd.mailbox_size", "must be at most 16777216, got 1000000000"},
		{"scripts not an array", "[agentd]\nscripts = \"a.lua\"\n", 2, "agentd.scripts",
			`expected an array of strings (files, folders or globs), got string "a.lua"`},
		{"scripts element", "[agentd]\nscripts = [\n  \"a.lua\",\n  \"b.lua\",\n  7,\n]\n", 5, "agentd.scripts[3]", "expected a string, got integer 7"},
		{"empty script", "[agentd]\nscripts = [\"\"]\n", 2, "agentd.scripts[1]", "empty path"},
		{"packs not an array", "[agentd]\npacks = \"p\"\n", 2, "agentd.packs", "expected an array of pack folders, got string \"p\""},
		{"empty pack", "[agentd]\npacks = [\n\"a\",\n\"\"]\n", 4, "agentd.packs[2]", "empty path"},
		{"bad log level", "[log]\nlevel = \"verbose\"\n", 2, "log.level",
			`unknown level "verbose" (want "debug", "info", "notice", "warning" or "error")`},
		{"bad log format", "[log]\nformat = \"xml\"\n", 2, "log.format", `unknown format "xml" (want "text" or "json")`},
		{"unknown role", "[[exchange]]\nrole = \"server\"\n\n[[exchange]]\nrole = \"hub\"\n", 5, "exchange[2].role",
			`unknown role "hub" (want "server" or "client")`},
		{"missing role", "[[exchange]]\nlisten = \":1\"\n", 1, "exchange[1].role", `required key is missing (want "server" or "client")`},
		{"listen on a client", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\nlisten = \"127.0.0.1:1\"\n", 4,
			"exchange[1].listen", `only a server listens; a client names its hubs in "connect"`},
		{"bad listen", "[[exchange]]\nrole = \"server\"\nlisten = \"localhost\"\n", 3, "exchange[1].listen",
			`invalid address "localhost" (want host:port, e.g. "127.0.0.1:11111")`},
		{"connect on a server", "[[exchange]]\nrole = \"server\"\nconnect = [\"nats://h:1\"]\n", 3, "exchange[1].connect",
			`only a client connects; a server takes "listen"`},
		{"missing connect", "[[exchange]]\nrole = \"server\"\n[[exchange]]\nrole = \"client\"\n", 3, "exchange[2].connect",
			`required key is missing: a client needs at least one URL, e.g. ["nats://127.0.0.1:11111"]`},
		{"empty connect", "[[exchange]]\nrole = \"client\"\nconnect = []\n", 3, "exchange[1].connect", "a client needs at least one URL"},
		{"all URLs bad", "[[exchange]]\nrole = \"client\"\nconnect = [\"tls://:1\"]\n", 3, "exchange[1].connect[1]",
			`URL "tls://:1": want host:port after the scheme, e.g. "nats://127.0.0.1:11111"`},
		{"bad URL scheme", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://a:1\", \"http://h:1\"]\n", 3, "exchange[1].connect[2]",
			`URL "http://h:1": scheme must be "nats" or "tls"`},
		{"URL without port", "[[exchange]]\nrole = \"client\"\nconnect = [\n\"nats://a:1\",\n\"nats://h\"]\n", 5, "exchange[1].connect[2]",
			`URL "nats://h": want host:port after the scheme, e.g. "nats://127.0.0.1:11111"`},
		{"retry on a server", "[[exchange]]\nrole = \"server\"\nretry = \"1s\"\n", 3, "exchange[1].retry", "only a client retries; a server has no retry"},
		{"zero retry", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\nretry = \"0s\"\n", 4, "exchange[1].retry", `must be more than 0, got "0s"`},
		{"tls typo", "[[exchange]]\nrole = \"server\"\n[exchange.tls]\ncert = \"c\"\nkey = \"k\"\ncafile = \"x\"\n", 6, "exchange[1].tls.cafile", "unknown key"},
		{"tls cert without key", "[[exchange]]\nrole = \"server\"\n[exchange.tls]\ncert = \"c\"\n", 3, "exchange[1].tls", "cert and key must be given together"},
		{"exchange not an array", "[exchange]\nrole = \"server\"\n", 1, "exchange", "expected an array of tables: write [[exchange]], not [exchange]"},
		{"inline exchange element", "exchange = [{role = \"server\"},\n  {role = \"client\", listen = \":1\", connect = [\"nats://h:1\"]}]\n", 2,
			"exchange[2].listen", `only a server listens; a client names its hubs in "connect"`},
		{"sandbox type", "[sandbox]\nallow_io = 1\n", 2, "sandbox.allow_io", "expected a boolean, got integer 1"},
		{"config value not a table", "[config]\nheartbeat = 10\n", 2, "config.heartbeat",
			`expected a table [config.heartbeat] of settings for the script or pack "heartbeat", got integer 10`},
		{"syntax error", "[agentd]\nhot_reload = true\nmailbox_size = = 3\n", 3, "", ""},
		{"duplicate key", "[log]\nlevel = \"info\"\nlevel = \"debug\"\n", 3, "", ""},
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Decode("config.toml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("Decode returned a config with an error")
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("want one problem, got %T:\n%v", err, err)
			}
			e := errs[0]
			if e.File != "config.toml" || e.Line != tc.line || e.Key != tc.key {
				t.Errorf("got %s:%d key %q, want config.toml:%d key %q (%v)", e.File, e.Line, e.Key, tc.line, tc.key, e)
			}
			if tc.msg != "" && e.Msg != tc.msg {
				t.Errorf("message:\n got %s\nwant %s", e.Msg, tc.msg)
			}
			if tc.key == "" && (e.Col < 1 || e.Msg == "") {
				t.Errorf("syntax error without column or message: %+v", e)
			}
		})
	}
}

func TestDecodeReportsAllProblemsInLineOrder(t *testing.T) {
	src := `[log]
level = "loud"

[agentd]
Hot_Reload = true
mailbox_size = 0
request_timeout = 5

[[exchange]]
role = "hub"
`
	_, err := Decode("config.toml", []byte(src))
	want := strings.Join([]string{
		`config.toml:2: log.level: unknown level "loud" (want "debug", "info", "notice", "warning" or "error")`,
		`config.toml:5: agentd.Hot_Reload: unknown key (keys are case-sensitive; did you mean "hot_reload"?)`,
		`config.toml:6: agentd.mailbox_size: must be at least 1, got 0`,
		`config.toml:7: agentd.request_timeout: bare number 5 is not a duration; write "5s"`,
		`config.toml:10: exchange[1].role: unknown role "hub" (want "server" or "client")`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	if errs, ok := err.(Errors); !ok || len(errs.Unwrap()) != 5 {
		t.Errorf("want Errors with 5 problems, got %T", err)
	}
}

func TestDecodeRefusesDeepNesting(t *testing.T) {
	for name, src := range map[string]string{
		"dotted key":    "\n" + strings.Repeat("a.", 100) + "a = 1\n",
		"header":        "\n[" + strings.Repeat("a.", 100) + "a]\n",
		"inline tables": "\nx = " + strings.Repeat("{a=", 100) + "1" + strings.Repeat("}", 100) + "\n",
		"arrays":        "\nx = " + strings.Repeat("[", 1<<20) + "\n",
	} {
		start := time.Now()
		_, err := Decode("config.toml", []byte(src))
		want := "config.toml:2: keys or values nested more than 64 levels deep"
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", name, err, want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
	nested := "[config.t]\nx = " + strings.Repeat("[", 60) + strings.Repeat("]", 60) + "\n"
	if _, err := Decode("config.toml", []byte(nested)); err != nil {
		t.Errorf("nesting below the limit: %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "c.toml", Line: 7, Key: "agentd.hot_reload", Msg: "m"}, "c.toml:7: agentd.hot_reload: m"},
		{Error{File: "c.toml", Key: "agentd.x", Msg: "m"}, "c.toml: agentd.x: m"},
		{Error{File: "c.toml", Line: 3, Col: 9, Msg: "m"}, "c.toml:3:9: m"},
		{Error{Line: 3, Key: "k", Msg: "m"}, "line 3: k: m"},
		{Error{Msg: "m"}, "m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "none.toml") {
		t.Errorf("Load(missing) = %v", err)
	}
}

// agentd.packs lists pack folders, resolved against the config file's folder.
func TestDecodePacks(t *testing.T) {
	cfg, err := Decode("conf/agentd.toml", []byte("[agentd]\npacks = [\n  \"packs/heartbeat\",\n  \"/opt/recorder\",\n]\n"))
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("conf")
	want := []Script{
		{Spec: "packs/heartbeat", Path: filepath.Join(dir, "packs/heartbeat"), Line: 3},
		{Spec: "/opt/recorder", Path: "/opt/recorder", Line: 4},
	}
	if !reflect.DeepEqual(cfg.Agentd.Packs, want) {
		t.Errorf("packs %+v, want %+v", cfg.Agentd.Packs, want)
	}
}
