package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// document reads the top level of config.toml.
func (d *decoder) document(doc map[string]any) {
	c := d.cfg
	d.table(nil, doc, []field{
		{"agentd", d.subtable(d.agentd)},
		{"log", d.subtable(d.log)},
		{"exchange", d.exchanges},
		{"sandbox", d.subtable(func(p keyPath, m map[string]any) {
			d.table(p, m, []field{
				{"allow_io", d.setBool(&c.Sandbox.AllowIO)},
				{"allow_exec", d.setBool(&c.Sandbox.AllowExec)},
			})
		})},
		{"config", d.subtable(d.tables)},
	})
}

func (d *decoder) agentd(p keyPath, m map[string]any) {
	a := &d.cfg.Agentd
	d.table(p, m, []field{
		{"scripts", d.scripts},
		{"packs_dir", d.setString(&a.PacksDir)},
		{"packs", d.packs},
		{"hot_reload", d.setBool(&a.HotReload)},
		{"request_timeout", d.setDuration(&a.RequestTimeout, time.Nanosecond, 0)},
		{"shutdown_delay", d.setDuration(&a.ShutdownDelay, 0, 0)},
		{"callback_limit", d.setDuration(&a.CallbackLimit, 0, 0)},
		{"alloc_limit", d.setSize(&a.AllocLimit, minAllocLimit)},
		{"memory_limit", func(p keyPath, v any) {
			n, ok := d.size(p, v)
			switch {
			case !ok:
			case n != 0 && n < minMemoryLimit:
				d.errorf(p, "must be 0 (no limit) or at least 1MiB, got %q", v)
			default:
				a.MemoryLimit = n
			}
		}},
		{"reload_drain", d.setDuration(&a.ReloadDrain, 0, 0)},
		{"reload_debounce", d.setDuration(&a.ReloadDebounce, time.Nanosecond, maxReloadDebounce)},
		{"mailbox_size", func(p keyPath, v any) {
			n, ok := d.integer(p, v)
			switch {
			case !ok:
			case n < 1:
				d.errorf(p, "must be at least 1, got %d", n)
			case n > maxMailboxSize:
				d.errorf(p, "must be at most %d, got %d", maxMailboxSize, n)
			default:
				a.MailboxSize = int(n)
			}
		}},
	})
}

func (d *decoder) scripts(p keyPath, v any) {
	d.cfg.Agentd.Scripts = append(d.cfg.Agentd.Scripts, d.paths(p, v, "an array of strings (files, folders or globs)")...)
}

// packs reads agentd.packs: pack folders to run in place.
func (d *decoder) packs(p keyPath, v any) {
	d.cfg.Agentd.Packs = append(d.cfg.Agentd.Packs, d.paths(p, v, "an array of pack folders")...)
}

// paths reads an array of paths, each resolved against the config file's folder.
func (d *decoder) paths(p keyPath, v any, want string) []Script {
	list, ok := d.list(p, v, want)
	if !ok {
		return nil
	}
	var out []Script
	for i, e := range list {
		q := p.index(i)
		spec, ok := d.str(q, e)
		if !ok {
			continue
		}
		if spec == "" {
			d.errorf(q, "empty path")
			continue
		}
		out = append(out, Script{Spec: spec, Path: d.abs(spec), Line: d.lines.lookup(q)})
	}
	return out
}

func (d *decoder) log(p keyPath, m map[string]any) {
	l := &d.cfg.Log
	d.table(p, m, []field{
		{"level", d.setEnum(&l.Level, "level", "debug", "info", "notice", "warning", "error")},
		{"format", d.setEnum(&l.Format, "format", "text", "json")},
		{"file", d.setString(&l.File)},
	})
}

func (d *decoder) exchanges(p keyPath, v any) {
	switch v := v.(type) {
	case []map[string]any:
		for i, m := range v {
			d.exchange(p.index(i), m)
		}
	case []any: // exchange = [{...}, {...}]
		for i, e := range v {
			if m, ok := d.tableValue(p.index(i), e); ok {
				d.exchange(p.index(i), m)
			}
		}
	case map[string]any:
		d.errorf(p, "expected an array of tables: write [[exchange]], not [exchange]")
	default:
		d.errorf(p, "expected an array of tables ([[exchange]]), got %s", describe(v))
	}
}

func (d *decoder) exchange(p keyPath, m map[string]any) {
	var role string
	if v, ok := m["role"]; ok {
		role, _ = d.enum(p.child("role"), v, "role", RoleServer, RoleClient)
	} else {
		d.errorf(p.child("role"), "required key is missing (want %s)", orList([]string{RoleServer, RoleClient}))
	}
	x := defaultExchange(role)
	x.Line = d.lines.lookup(p)
	listenOK := true
	d.table(p, m, []field{
		{"role", func(keyPath, any) {}}, // read above
		{"listen", func(p keyPath, v any) {
			if role == RoleClient {
				d.errorf(p, `only a server listens; a client names its hubs in "connect"`)
			} else if s, ok := d.str(p, v); ok && d.checkHostPort(p, s) {
				x.Listen = s
			} else {
				listenOK = false
			}
		}},
		{"connect", func(p keyPath, v any) {
			if role == RoleServer {
				d.errorf(p, `only a client connects; a server takes "listen"`)
				return
			}
			x.Connect = d.urls(p, v, "a client needs at least one URL", "nats", "tls")
		}},
		{"group", func(p keyPath, v any) {
			if s, ok := d.str(p, v); ok {
				if ValidGroup(s) {
					x.Group = s
				} else {
					d.errorf(p, "invalid group %q: %s", s, groupRule)
				}
			}
		}},
		{"token", d.setString(&x.Token)},
		{"retry", func(p keyPath, v any) {
			if role == RoleServer {
				d.errorf(p, "only a client retries; a server has no retry")
				return
			}
			d.setDuration(&x.Retry, 0, 0)(p, v)
		}},
		{"insecure", func(p keyPath, v any) {
			if role == RoleClient {
				d.errorf(p, "only a server has insecure: it lets a hub accept anyone on a non-loopback address")
				return
			}
			d.setBool(&x.Insecure)(p, v)
		}},
		{"tls", d.subtable(func(p keyPath, t map[string]any) {
			d.table(p, t, []field{
				{"cert", d.setPath(&x.TLS.Cert, &x.TLS.CertLine)},
				{"key", d.setPath(&x.TLS.Key, &x.TLS.KeyLine)},
				{"ca", d.setPath(&x.TLS.CA, &x.TLS.CALine)},
			})
			if (x.TLS.Cert == "") != (x.TLS.Key == "") {
				d.errorf(p, "cert and key must be given together")
			} else if role == RoleServer && x.TLS.CA != "" && x.TLS.Cert == "" {
				d.errorf(p.child("ca"), "a hub verifies client certificates only over TLS: give its cert and key too")
			}
		})},
		{"cluster", d.subtable(func(p keyPath, t map[string]any) {
			if role == RoleClient {
				d.errorf(p, "only a server clusters with other hubs; a client lists several hubs in \"connect\"")
				return
			}
			d.cluster(p, t, &x.Cluster, &listenOK)
		})},
	})
	if _, ok := m["connect"]; !ok && role == RoleClient {
		d.errorf(p.child("connect"), `required key is missing: a client needs at least one URL, e.g. ["nats://127.0.0.1:11111"]`)
	}
	if role == RoleServer && listenOK && !x.Insecure && x.Token == "" && (x.TLS.Cert == "" || x.TLS.CA == "") {
		for _, addr := range []string{x.Listen, x.Cluster.Listen} {
			if addr != "" && !Loopback(addr) {
				d.errorf(p.child("token"), "the hub would accept anyone: %q is reachable from other machines, "+
					"and there is neither a token nor client certificates (tls.ca); set a token, or insecure = true to accept anyone", addr)
				break
			}
		}
	}
	d.cfg.Exchange = append(d.cfg.Exchange, x)
}

// cluster reads [exchange.cluster]; ok is cleared when an address is invalid.
func (d *decoder) cluster(p keyPath, t map[string]any, c *Cluster, ok *bool) {
	d.table(p, t, []field{
		{"name", func(p keyPath, v any) {
			if s, good := d.str(p, v); good {
				if s != "" && ValidGroup(s) && s[0] != '-' {
					c.Name = s
				} else {
					d.errorf(p, "invalid cluster name %q: %s", s, "want 1 to 64 letters, digits, '-' and '_', beginning with a letter or digit")
				}
			}
		}},
		{"listen", func(p keyPath, v any) {
			if s, good := d.str(p, v); good && d.checkHostPort(p, s) {
				c.Listen = s
			} else {
				*ok = false
			}
		}},
		{"routes", func(p keyPath, v any) {
			c.Routes = d.urls(p, v, "", "nats-route")
		}},
	})
	if _, has := t["listen"]; !has {
		d.errorf(p.child("listen"), `required key is missing: the address this hub takes routes from other hubs on, e.g. "127.0.0.1:11112"`)
		*ok = false
	}
}

// urls reads an array of URLs with one of schemes and host:port (connect,
// cluster.routes); empty, when not "", is the message for an empty array.
// It returns the valid ones.
func (d *decoder) urls(p keyPath, v any, empty string, schemes ...string) []string {
	example := schemes[0] + "://127.0.0.1:11111"
	list, ok := d.list(p, v, fmt.Sprintf(`an array of URLs such as [%q]`, example))
	if !ok {
		return nil
	}
	if len(list) == 0 && empty != "" {
		d.errorf(p, "%s", empty)
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		q := p.index(i)
		s, ok := d.str(q, e)
		if !ok {
			continue
		}
		u, err := url.Parse(s)
		if err != nil {
			if ue, ok := err.(*url.Error); ok {
				err = ue.Err
			}
			d.errorf(q, "invalid URL %q: %v", s, err)
			continue
		}
		if !slices.Contains(schemes, u.Scheme) {
			d.errorf(q, "URL %q: scheme must be %s", s, orList(schemes))
			continue
		}
		if u.User != nil && u.Scheme == "nats-route" {
			d.errorf(q, "URL %q: no credentials in a route: hubs derive them from the endpoint's token", s)
			continue
		}
		if !validHostPort(u.Host, true) {
			d.errorf(q, "URL %q: want host:port after the scheme, e.g. %q", s, example)
			continue
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) checkHostPort(p keyPath, s string) bool {
	if !validHostPort(s, false) {
		d.errorf(p, `invalid address %q (want host:port, e.g. "127.0.0.1:11111")`, s)
		return false
	}
	return true
}

// validHostPort reports whether s is host:port with a port in 0-65535 (1-65535
// when dialing); a listener may leave the host empty to listen everywhere.
func validHostPort(s string, dial bool) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || dial && host == "" {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && (n > 0 || !dial)
}

// The setters below return a field reader that stores a valid value in dst.

func (d *decoder) subtable(read func(p keyPath, m map[string]any)) func(keyPath, any) {
	return func(p keyPath, v any) {
		if m, ok := d.tableValue(p, v); ok {
			read(p, m)
		}
	}
}

func (d *decoder) setString(dst *string) func(keyPath, any) {
	return func(p keyPath, v any) {
		if s, ok := d.str(p, v); ok {
			*dst = s
		}
	}
}

// setPath reads a path and notes the line it is written on.
func (d *decoder) setPath(dst *string, line *int) func(keyPath, any) {
	return func(p keyPath, v any) {
		if s, ok := d.str(p, v); ok {
			if s == "" {
				d.errorf(p, "empty path")
				return
			}
			*dst, *line = s, d.lines.lookup(p)
		}
	}
}

func (d *decoder) setBool(dst *bool) func(keyPath, any) {
	return func(p keyPath, v any) {
		if b, ok := d.boolean(p, v); ok {
			*dst = b
		}
	}
}

func (d *decoder) setEnum(dst *string, what string, allowed ...string) func(keyPath, any) {
	return func(p keyPath, v any) {
		if s, ok := d.enum(p, v, what, allowed...); ok {
			*dst = s
		}
	}
}

// setDuration reads a duration of at least lo and, when hi > 0, at most hi.
// setSize sets *dst to a size of at least lo bytes.
func (d *decoder) setSize(dst *int64, lo int64) func(keyPath, any) {
	return func(p keyPath, v any) {
		n, ok := d.size(p, v)
		switch {
		case !ok:
		case n < lo:
			d.errorf(p, "must be at least %s, got %q", formatSize(lo), v)
		default:
			*dst = n
		}
	}
}

func (d *decoder) setDuration(dst *time.Duration, lo, hi time.Duration) func(keyPath, any) {
	return func(p keyPath, v any) {
		dur, ok := d.duration(p, v)
		switch {
		case !ok:
		case dur < lo && lo == time.Nanosecond:
			d.errorf(p, "must be more than 0, got %q", v)
		case dur < lo:
			d.errorf(p, "must be at least %v, got %q", lo, v)
		case hi > 0 && dur > hi:
			d.errorf(p, "must be at most %v, got %q", hi, v)
		default:
			*dst = dur
		}
	}
}

// groupRule says what ValidGroup accepts.
const groupRule = "want \"\" or 1 to 64 letters, digits, '-' and '_', not beginning with '_'"

// ValidGroup reports whether g can name an exchange group: "" (the
// default group), or 1 to 64 ASCII letters, digits, '-' and '_', not
// beginning with '_'. Package exchange applies it too.
func ValidGroup(g string) bool {
	if len(g) > 64 || g != "" && g[0] == '_' {
		return false
	}
	for _, r := range g {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// Loopback reports whether a listen address (host:port) is reachable
// only from this machine: its host is "localhost" or a loopback IP
// address. An empty host, 0.0.0.0 or any other name is not. It is the
// rule exchange.Validate applies to a hub.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
