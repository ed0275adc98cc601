package daemon

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/agentd/agentd/internal/config"
	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/luabind"
)

// Reconfigure applies a new configuration (SIGHUP). What can change while
// agentd runs changes: the log level, the scripts list (scripts start and
// stop), hot reload and its debounce and drain, the default request
// timeout, the shutdown delay, the sandbox, the [config.NAME] tables
// (the scripts concerned reload, so they see them) and the client
// endpoints of the exchange (added, removed; a changed one is both). A
// change to anything else (the log file or format, mailbox_size,
// callback_limit, alloc_limit, memory_limit, any key of a server
// endpoint, a server endpoint added or removed) refuses the whole new
// configuration: the error says which keys, and the running
// configuration stays in force. So does a new client endpoint whose TLS
// files cannot be used.
//
// Reconfigure must not be called concurrently with itself or Close.
func (d *Daemon) Reconfigure(next *config.Config) error {
	prev := d.cfg // only Reconfigure writes d.cfg
	if err := refusal(prev, next); err != nil {
		return err
	}
	if err := checkAddedClients(prev, next); err != nil {
		return fmt.Errorf("configuration not applied: a new exchange endpoint cannot start: %s; the running configuration stays in force",
			strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	// The watcher's loop takes ops for every event: stop it, when it must
	// change, before taking ops, and start it again afterwards.
	if next.Agentd.HotReload != prev.Agentd.HotReload || next.Agentd.ReloadDebounce != prev.Agentd.ReloadDebounce {
		d.stopWatching()
	}
	d.reconfigure(next)
	if next.Agentd.HotReload && d.watcher == nil {
		if err := d.startWatching(); err != nil {
			d.log.Error("hot reload is off: cannot watch files", "error", err)
		} else {
			// changes made while no watcher ran (or still settling in the
			// old one) were not seen
			d.ops.Lock()
			d.rescan()
			d.ops.Unlock()
		}
	}
	return nil
}

// refusal names the keys that differ but cannot change while running.
func refusal(prev, next *config.Config) error {
	var fixed []string
	if next.Log.File != prev.Log.File {
		fixed = append(fixed, "log.file")
	}
	if next.Log.Format != prev.Log.Format {
		fixed = append(fixed, "log.format")
	}
	if next.Agentd.MailboxSize != prev.Agentd.MailboxSize {
		fixed = append(fixed, "agentd.mailbox_size")
	}
	if next.Agentd.CallbackLimit != prev.Agentd.CallbackLimit {
		fixed = append(fixed, "agentd.callback_limit")
	}
	if next.Agentd.AllocLimit != prev.Agentd.AllocLimit {
		fixed = append(fixed, "agentd.alloc_limit")
	}
	if next.Agentd.MemoryLimit != prev.Agentd.MemoryLimit {
		fixed = append(fixed, "agentd.memory_limit")
	}
	fixed = append(fixed, exchangeRefusal(prev, next)...)
	if len(fixed) == 0 {
		return nil
	}
	return fmt.Errorf("configuration not applied: %s cannot change while agentd runs (restart it); the running configuration stays in force",
		strings.Join(fixed, ", "))
}

func (d *Daemon) reconfigure(next *config.Config) {
	d.ops.Lock()
	defer d.ops.Unlock()
	prev := d.cfg
	var changed []string
	note := func(key string, differs bool) bool {
		if differs {
			changed = append(changed, key)
		}
		return differs
	}
	if note("log.level", next.Log.Level != prev.Log.Level) {
		level, _ := logging.ParseLevel(next.Log.Level)
		d.level.Set(level)
	}
	if note("agentd.request_timeout", next.Agentd.RequestTimeout != prev.Agentd.RequestTimeout) {
		d.rt.SetRequestTimeout(next.Agentd.RequestTimeout)
	}
	if note("agentd.shutdown_delay", next.Agentd.ShutdownDelay != prev.Agentd.ShutdownDelay) {
		d.rt.SetShutdownDelay(next.Agentd.ShutdownDelay)
	}
	note("agentd.reload_drain", next.Agentd.ReloadDrain != prev.Agentd.ReloadDrain)
	note("agentd.packs_dir", next.Agentd.PacksDir != prev.Agentd.PacksDir)
	note("agentd.packs", !reflect.DeepEqual(next.Agentd.Packs, prev.Agentd.Packs))
	note("agentd.hot_reload", next.Agentd.HotReload != prev.Agentd.HotReload)
	note("agentd.reload_debounce", next.Agentd.ReloadDebounce != prev.Agentd.ReloadDebounce)
	exchangeChanged := note("exchange", !reflect.DeepEqual(next.Exchange, prev.Exchange))
	sandbox := note("sandbox", next.Sandbox != prev.Sandbox)
	scripts := note("agentd.scripts", !reflect.DeepEqual(next.Agentd.Scripts, prev.Agentd.Scripts))
	var tables []string
	for _, name := range slices.Sorted(maps.Keys(union(prev.Tables, next.Tables))) {
		if !reflect.DeepEqual(prev.Tables[name], next.Tables[name]) {
			tables = append(tables, name)
			changed = append(changed, "config."+name)
		}
	}

	d.cfg = next
	d.tables.Store(next)
	if exchangeChanged {
		d.reconfigureExchange(prev, next)
	}
	if sandbox {
		d.host.SetSandbox(luabind.Sandbox{AllowIO: next.Sandbox.AllowIO, AllowExec: next.Sandbox.AllowExec})
	}
	if scripts {
		if _, err := next.ResolveScripts(); err != nil {
			d.log.Warn("scripts entries that cannot be started", "error", err)
		}
		want := d.configured()
		for p := range union(want, d.running()) {
			d.syncScript(p, want)
		}
	}
	// scripts reload to see a changed sandbox or configuration table
	for p, s := range d.scripts {
		if s.sc != nil && (sandbox || slices.Contains(tables, s.sc.Name())) {
			d.reload(p, s, "configuration changed")
		}
	}
	// packs found, gone or with a changed [config.NAME] start, stop or reload
	d.syncPacks("configuration changed", sandbox)
	d.watchFolders()
	d.log.Info("configuration reloaded", "changed", changed)
}

func (d *Daemon) running() map[string]bool {
	out := make(map[string]bool, len(d.scripts))
	for p := range d.scripts {
		out[p] = true
	}
	return out
}

func union[V any](a, b map[string]V) map[string]V {
	out := make(map[string]V, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}
