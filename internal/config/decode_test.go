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
			TLS: TLS{Cert: "/etc/agentd/tls/cert.pem", Key: "/etc/key.pem", CertLine: 21, KeyLine: 21}, Line: 17},
		{Role: "client", Connect: []string{"nats://a:1", "tls://b.example:4222"}, Retry: 250 * time.Millisecond,
			TLS: TLS{CA: "/etc/agentd/ca.pem", CALine: 28}, Line: 23},
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
		{"negative retry", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\nretry = \"-1s\"\n", 4, "exchange[1].retry", `negative duration "-1s"`},
		{"bare retry", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\nretry = 0\n", 4, "exchange[1].retry", `bare number 0 is not a duration; write "0s"`},
		{"bad group", "[[exchange]]\nrole = \"server\"\ngroup = \"a.b\"\n", 3, "exchange[1].group",
			`invalid group "a.b": want "" or 1 to 64 letters, digits, '-' and '_', not beginning with '_'`},
		{"group with _", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\ngroup = \"_x\"\n", 4, "exchange[1].group", ""},
		{"long group", "[[exchange]]\nrole = \"server\"\ngroup = \"" + strings.Repeat("g", 65) + "\"\n", 3, "exchange[1].group", ""},
		{"group not a string", "[[exchange]]\nrole = \"server\"\ngroup = 1\n", 3, "exchange[1].group", "expected a string, got integer 1"},
		{"insecure not a boolean", "[[exchange]]\nrole = \"server\"\ninsecure = \"yes\"\n", 3, "exchange[1].insecure", `expected a boolean, got string "yes"`},
		{"insecure on a client", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\ninsecure = true\n", 4, "exchange[1].insecure",
			"only a server has insecure: it lets a hub accept anyone on a non-loopback address"},
		{"open hub", "# hub\n[[exchange]]\nrole = \"server\"\nlisten = \"0.0.0.0:11111\"\n", 2, "exchange[1].token",
			`the hub would accept anyone: "0.0.0.0:11111" is reachable from other machines, and there is neither a token nor client certificates (tls.ca); set a token, or insecure = true to accept anyone`},
		{"open hub, every interface", "[[exchange]]\nrole = \"server\"\nlisten = \":11111\"\n", 1, "exchange[1].token", ""},
		{"open hub, a host name", "[[exchange]]\nrole = \"server\"\nlisten = \"hub.example:11111\"\n", 1, "exchange[1].token", ""},
		{"open hub, TLS without ca", "[[exchange]]\nrole = \"server\"\nlisten = \"10.0.0.1:1\"\ntls = {cert = \"c\", key = \"k\"}\n", 1, "exchange[1].token", ""},
		{"open cluster", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"0.0.0.0:6222\"\n", 1, "exchange[1].token",
			`the hub would accept anyone: "0.0.0.0:6222" is reachable from other machines, and there is neither a token nor client certificates (tls.ca); set a token, or insecure = true to accept anyone`},
		{"tls ca on a server without cert", "[[exchange]]\nrole = \"server\"\n[exchange.tls]\nca = \"ca.pem\"\n", 4, "exchange[1].tls.ca",
			"a hub verifies client certificates only over TLS: give its cert and key too"},
		{"tls empty path", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\n[exchange.tls]\nca = \"\"\n", 5, "exchange[1].tls.ca", "empty path"},
		{"tls path not a string", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\ntls = { ca = 1 }\n", 4, "exchange[1].tls.ca", "expected a string, got integer 1"},
		{"cluster on a client", "[[exchange]]\nrole = \"client\"\nconnect = [\"nats://h:1\"]\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\n", 4, "exchange[1].cluster",
			`only a server clusters with other hubs; a client lists several hubs in "connect"`},
		{"cluster not a table", "[[exchange]]\nrole = \"server\"\ncluster = \"x\"\n", 3, "exchange[1].cluster", `expected a table, got string "x"`},
		{"cluster typo", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\nroute = []\n", 5, "exchange[1].cluster.route",
			`unknown key (did you mean "routes"?)`},
		{"cluster without listen", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nname = \"c\"\n", 3, "exchange[1].cluster.listen",
			`required key is missing: the address this hub takes routes from other hubs on, e.g. "127.0.0.1:11112"`},
		{"bad cluster listen", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"nohost\"\n", 4, "exchange[1].cluster.listen",
			`invalid address "nohost" (want host:port, e.g. "127.0.0.1:11111")`},
		{"bad cluster name", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\nname = \"my cluster\"\n", 5, "exchange[1].cluster.name",
			`invalid cluster name "my cluster": want 1 to 64 letters, digits, '-' and '_', beginning with a letter or digit`},
		{"empty cluster name", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\nname = \"\"\n", 5, "exchange[1].cluster.name", ""},
		{"routes not an array", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\nroutes = \"nats-route://h:1\"\n", 5,
			"exchange[1].cluster.routes", `expected an array of URLs such as ["nats-route://127.0.0.1:11111"], got string "nats-route://h:1"`},
		{"route scheme", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\nroutes = [\n\"nats-route://h:1\",\n\"nats://h:2\"]\n", 7,
			"exchange[1].cluster.routes[2]", `URL "nats://h:2": scheme must be "nats-route"`},
		{"route without port", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\nroutes = [\"nats-route://h\"]\n", 5,
			"exchange[1].cluster.routes[1]", `URL "nats-route://h": want host:port after the scheme, e.g. "nats-route://127.0.0.1:11111"`},
		{"route with credentials", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\nroutes = [\"nats-route://u:p@h:1\"]\n", 5,
			"exchange[1].cluster.routes[1]", `URL "nats-route://u:p@h:1": no credentials in a route: hubs derive them from the endpoint's token`},
		{"route element type", "[[exchange]]\nrole = \"server\"\n[exchange.cluster]\nlisten = \"127.0.0.1:1\"\nroutes = [5]\n", 5,
			"exchange[1].cluster.routes[1]", "expected a string, got integer 5"},
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

// The keys of security and clustering, and retry = "0s" (one attempt).
func TestDecodeExchangeClusterAndSecurity(t *testing.T) {
	src := `[[exchange]]
role = "server"
listen = "0.0.0.0:11111"
group = "blue-1"
token = "s3cret"
[exchange.cluster]
name = "east"
listen = "0.0.0.0:11112"
routes = ["nats-route://hub2:11112", "nats-route://10.0.0.3:11112"]

[[exchange]]
role = "server"
listen = ":4222"
insecure = true

[[exchange]]
role = "server"
listen = "[::]:4223"
[exchange.tls]
cert = "hub.pem"
key = "hub.key"
ca = "ca.pem"

[[exchange]]
role = "client"
connect = ["tls://hub:11111"]
retry = "0s"
insecure = false
`
	_, err := Decode("/etc/agentd/config.toml", []byte(src))
	if err == nil || err.Error() != `/etc/agentd/config.toml:28: exchange[4].insecure: only a server has insecure: it lets a hub accept anyone on a non-loopback address` {
		t.Fatalf("insecure on a client: %v", err)
	}
	cfg, err := Decode("/etc/agentd/config.toml", []byte(strings.Replace(src, "insecure = false\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Exchange{
		{Role: "server", Listen: "0.0.0.0:11111", Group: "blue-1", Token: "s3cret", Line: 1,
			Cluster: Cluster{Name: "east", Listen: "0.0.0.0:11112", Routes: []string{"nats-route://hub2:11112", "nats-route://10.0.0.3:11112"}}},
		{Role: "server", Listen: ":4222", Insecure: true, Line: 11},
		{Role: "server", Listen: "[::]:4223", Line: 16, TLS: TLS{Cert: "/etc/agentd/hub.pem", Key: "/etc/agentd/hub.key", CA: "/etc/agentd/ca.pem",
			CertLine: 20, KeyLine: 21, CALine: 22}},
		{Role: "client", Connect: []string{"tls://hub:11111"}, Retry: 0, Line: 24},
	}
	if !reflect.DeepEqual(cfg.Exchange, want) {
		t.Errorf("exchange =\n %+v\nwant\n %+v", cfg.Exchange, want)
	}
	// a file problem found later (agentd check) is reported like a decoding one
	e := cfg.ExchangeError(2, "tls.ca", errors.New("no certificate in the file"))
	if got := e.Error(); got != "/etc/agentd/config.toml:22: exchange[3].tls.ca: no certificate in the file" {
		t.Errorf("ExchangeError: %s", got)
	}
	e = cfg.ExchangeError(1, "", errors.New("cannot listen"))
	if got := e.Error(); got != "/etc/agentd/config.toml:11: exchange[2]: cannot listen" {
		t.Errorf("ExchangeError: %s", got)
	}
}

func TestLoopbackAndGroups(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "127.1.2.3:1": true, "[::1]:1": true, "localhost:1": true,
		"0.0.0.0:1": false, ":1": false, "[::]:1": false, "10.0.0.1:1": false, "host:1": false, "bad": false,
	} {
		if Loopback(addr) != want {
			t.Errorf("Loopback(%q) = %v", addr, !want)
		}
	}
	for g, want := range map[string]bool{
		"": true, "a": true, "A-b_9": true, "-x": true, strings.Repeat("x", 64): true,
		"_x": false, "a.b": false, "a b": false, "é": false, "a*": false, strings.Repeat("x", 65): false,
	} {
		if ValidGroup(g) != want {
			t.Errorf("ValidGroup(%q) = %v", g, !want)
		}
	}
}
