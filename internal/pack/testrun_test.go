package pack

import (
	"strings"
	"testing"
	"time"
)

// What fails a test, and how each failure is reported.
func TestRunTestsFailures(t *testing.T) {
	const main = "local s = agentd.service(\"p\")\nfunction s:init() self:startTimer(self.tick, 0.01) end\nfunction s:tick() end\n"
	cases := []struct {
		name    string
		files   map[string]string
		want    []string
		timeout time.Duration // replaces the manifest's 5s
	}{
		{"passes", map[string]string{
			"test/a_test.lua": "local test = require(\"agentd.test\")\ntest.ok(agentd.config.x == 2 and agentd.config.y == 1)\ntest.done()\n",
		}, nil, 0},
		{"no done", map[string]string{
			"test/a_test.lua": "-- never calls test.done()\n",
		}, []string{"test/a_test.lua: test.done() not called within 200ms"}, 200 * time.Millisecond},
		{"assertion in a callback", map[string]string{
			"test/a_test.lua": "local test = require(\"agentd.test\")\nlocal s = agentd.service()\nfunction s:init()\n  test.equal({1, {a = \"x\"}}, {1, {a = \"y\"}}, \"tables\")\nend\n",
		}, []string{`test/a_test.lua:4: tables: got {1, {a = "x"}}, want {1, {a = "y"}} (in init)`}, 0},
		{"error in a pack agent", map[string]string{
			"main.lua":        "local s = agentd.service(\"p\")\nfunction s:init() self:startTimer(self.tick, 0.01, \"t\") end\nfunction s:tick() error(\"agent broke\") end\n",
			"test/a_test.lua": "-- waits; the agent's error ends the test\n",
		}, []string{"main.lua:3: agent broke (in timer t of service p)"}, 0},
		{"output of a failed test is kept", map[string]string{
			"test/a_test.lua": "print(\"printed\")\nagentd.log.warning(\"logged\")\nrequire(\"agentd.test\").fail()\n",
		}, []string{"test/a_test.lua:3: test.fail called"}, 0},
		{"pack script does not load", map[string]string{
			"main.lua":        "error(\"no way\")\n",
			"test/a_test.lua": "require(\"agentd.test\").done()\n",
		}, []string{"main.lua:1: no way"}, 0},
		{"fail", map[string]string{
			"test/a_test.lua": "local test = require(\"agentd.test\")\nif agentd.config.x then test.fail(\"on purpose\") end\n",
		}, []string{"test/a_test.lua:2: on purpose"}, 0},
		{"shutdown", map[string]string{
			"test/a_test.lua": "agentd.scheduleShutdown(0)\n",
		}, []string{"the runtime shut down before test.done()"}, 0},
		{"two files, one fails", map[string]string{
			"test/a_test.lua": "require(\"agentd.test\").done()\n",
			"test/b_test.lua": "local test = require(\"agentd.test\")\ntest.equal(1, 2)\n",
		}, []string{"test/b_test.lua:2: got 1, want 2"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"main.lua": main, "test/main_test.lua": "require(\"agentd.test\").done()\n"}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := writePack(t, t.TempDir(), "p", "1.0.0", "[config]\nx = 1\ny = 1\n[test]\ntimeout = \"5s\"\n[test.config]\nx = 2\n", files)
			results, err := RunTests(dir, TestOptions{Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, r := range results {
				problems = append(problems, r.Problems...)
				if r.Passed != (len(r.Problems) == 0) {
					t.Errorf("%s: passed %v with problems %v", r.File, r.Passed, r.Problems)
				}
			}
			all := strings.Join(problems, "\n")
			if len(tc.want) == 0 && all != "" {
				t.Errorf("unexpected problems:\n%s", all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems lack %q:\n%s", w, all)
				}
			}
		})
	}
	dir := writePack(t, t.TempDir(), "p", "1.0.0", "", map[string]string{"test/main_test.lua": "x"})
	if _, err := RunTests(dir, TestOptions{Timeout: time.Second}); err == nil || !strings.Contains(err.Error(), "main_test.lua:1:") {
		t.Errorf("syntax error in a test: %v", err)
	}
}

func TestRunTestsOutput(t *testing.T) {
	dir := writePack(t, t.TempDir(), "p", "1.0.0", "", map[string]string{
		"test/main_test.lua": "print(\"printed\")\nagentd.log.info(\"logged\")\nrequire(\"agentd.test\").fail()\n",
		"test/ok_test.lua":   "print(\"quiet\")\nrequire(\"agentd.test\").done()\n",
	})
	results, err := RunTests(dir, TestOptions{})
	if err != nil || len(results) != 2 {
		t.Fatal(err, results)
	}
	if out := results[0].Output; !strings.Contains(out, "printed\n") || strings.Contains(out, "logged") || results[1].Output != "" {
		t.Errorf("without Verbose: %q, %q", out, results[1].Output)
	}
	results, _ = RunTests(dir, TestOptions{Verbose: true})
	if out := results[0].Output; !strings.Contains(out, "printed\n") || !strings.Contains(out, "msg=logged") || !strings.Contains(results[1].Output, "quiet") {
		t.Errorf("with Verbose: %q, %q", out, results[1].Output)
	}
}
