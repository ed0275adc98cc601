package bench

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// script returns the embedded Lua script name.lua.
func script(name string) string {
	b, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic("bench: no embedded script " + name) // a bench bug, found by its test
	}
	return string(b)
}

// agentConfig describes one agentd child.
type agentConfig struct {
	listen  string            // a server endpoint on this address, if not empty
	connect string            // a client endpoint to this URL, if not empty
	scripts map[string]string // file name (NAME.lua) → source
	config  map[string]map[string]any
}

// toml renders the configuration file.
func (c agentConfig) toml(retry time.Duration) string {
	var b strings.Builder
	b.WriteString("[agentd]\nshutdown_delay = \"0s\"\n")
	if len(c.scripts) > 0 {
		b.WriteString("scripts = [\"scripts\"]\n")
	}
	if c.listen != "" {
		fmt.Fprintf(&b, "\n[[exchange]]\nrole = \"server\"\nlisten = %s\n", strconv.Quote(c.listen))
	}
	if c.connect != "" {
		fmt.Fprintf(&b, "\n[[exchange]]\nrole = \"client\"\nconnect = [%s]\nretry = %s\n", strconv.Quote(c.connect), strconv.Quote(retry.String()))
	}
	sections := make([]string, 0, len(c.config))
	for s := range c.config {
		sections = append(sections, s)
	}
	sort.Strings(sections)
	for _, s := range sections {
		fmt.Fprintf(&b, "\n[config.%s]\n", s)
		keys := make([]string, 0, len(c.config[s]))
		for k := range c.config[s] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch v := c.config[s][k].(type) {
			case string:
				fmt.Fprintf(&b, "%s = %s\n", k, strconv.Quote(v))
			case int:
				fmt.Fprintf(&b, "%s = %d\n", k, v)
			case float64:
				fmt.Fprintf(&b, "%s = %s\n", k, strconv.FormatFloat(v, 'f', -1, 64))
			default:
				panic(fmt.Sprintf("bench: config value %T", v))
			}
		}
	}
	return b.String()
}

// write makes dir with the configuration file and the scripts.
func (c agentConfig) write(dir string, retry time.Duration) error {
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		return err
	}
	for name, src := range c.scripts {
		if err := os.WriteFile(filepath.Join(dir, "scripts", name), []byte(src), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "config.toml"), []byte(c.toml(retry)), 0o644)
}

var hubAddrRE = regexp.MustCompile(`exchange hub listening.* addr=(\S+)`)

// hubAddr reads the address from a hub's log line.
func hubAddr(l line) (string, error) {
	m := hubAddrRE.FindStringSubmatch(l.text)
	if m == nil {
		return "", fmt.Errorf("bench: no address in the hub's log line %q", l.text)
	}
	return m[1], nil
}
