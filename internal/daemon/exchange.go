package daemon

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/agentd/agentd/exchange"
	"github.com/agentd/agentd/internal/config"
)

// endpointConfig maps an [[exchange]] entry onto the exchange's
// configuration of an endpoint.
func endpointConfig(x config.Exchange) exchange.EndpointConfig {
	return exchange.EndpointConfig{
		Role:     x.Role,
		Group:    x.Group,
		Listen:   x.Listen,
		Cluster:  exchange.ClusterConfig{Name: x.Cluster.Name, Listen: x.Cluster.Listen, Routes: x.Cluster.Routes},
		Connect:  x.Connect,
		Retry:    x.Retry,
		Token:    x.Token,
		TLS:      exchange.TLSConfig{Cert: x.TLS.Cert, Key: x.TLS.Key, CA: x.TLS.CA},
		Insecure: x.Insecure,
	}
}

// checkExchangeFiles loads the TLS files of the [[exchange]] entries of
// cfg whose index pick accepts (all with a nil pick). Each file that
// cannot be used is a config.Error naming the file, line and key, such
// as exchange[2].tls.ca; all are returned together as config.Errors.
func checkExchangeFiles(cfg *config.Config, pick func(i int) bool) error {
	var errs config.Errors
	for i, x := range cfg.Exchange {
		if pick != nil && !pick(i) {
			continue
		}
		err := exchange.CheckTLS(endpointConfig(x).TLS)
		if err == nil {
			continue
		}
		list := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			list = j.Unwrap()
		}
		for _, e := range list {
			var fe *exchange.TLSFileError
			if errors.As(e, &fe) {
				errs = append(errs, cfg.ExchangeError(i, "tls."+fe.Field, fmt.Errorf("%w (%s)", fe.Err, fe.Path)))
			} else {
				errs = append(errs, cfg.ExchangeError(i, "tls", e))
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// startExchange starts every [[exchange]] endpoint, servers first (so
// that a client of this process's own hub finds it up). An endpoint that
// cannot start (a TLS file, a hub that cannot listen) is an error naming
// its entry; what started is stopped with the runtime.
func (d *Daemon) startExchange() error {
	if len(d.cfg.Exchange) == 0 {
		return nil
	}
	if err := checkExchangeFiles(d.cfg, nil); err != nil {
		return err
	}
	for _, role := range []string{config.RoleServer, config.RoleClient} {
		for i, x := range d.cfg.Exchange {
			if x.Role != role {
				continue
			}
			if err := d.x.Add(endpointConfig(x)); err != nil {
				return d.cfg.ExchangeError(i, "", err)
			}
		}
	}
	return nil
}

// exchangeRefusal names the [[exchange]] keys of next that cannot change
// while agentd runs: anything of a server endpoint (its hub keeps
// running as it is), and server endpoints added or removed. Server
// endpoints are paired in the order they are written.
func exchangeRefusal(prev, next *config.Config) []string {
	servers := func(c *config.Config) []int {
		var out []int
		for i, x := range c.Exchange {
			if x.Role == config.RoleServer {
				out = append(out, i)
			}
		}
		return out
	}
	ps, ns := servers(prev), servers(next)
	var keys []string
	for k := range max(len(ps), len(ns)) {
		switch {
		case k >= len(ps):
			keys = append(keys, fmt.Sprintf("exchange[%d] (a server endpoint added)", ns[k]+1))
			continue
		case k >= len(ns):
			keys = append(keys, fmt.Sprintf("exchange (the server endpoint on %s removed)", prev.Exchange[ps[k]].Listen))
			continue
		}
		a, b := prev.Exchange[ps[k]], next.Exchange[ns[k]]
		key := func(name string) string { return fmt.Sprintf("exchange[%d].%s", ns[k]+1, name) }
		for _, f := range []struct {
			name    string
			differs bool
		}{
			{"listen", a.Listen != b.Listen},
			{"group", a.Group != b.Group},
			{"token", a.Token != b.Token},
			{"insecure", a.Insecure != b.Insecure},
			{"tls.cert", a.TLS.Cert != b.TLS.Cert},
			{"tls.key", a.TLS.Key != b.TLS.Key},
			{"tls.ca", a.TLS.CA != b.TLS.CA},
			{"cluster.name", a.Cluster.Name != b.Cluster.Name},
			{"cluster.listen", a.Cluster.Listen != b.Cluster.Listen},
			{"cluster.routes", !slices.Equal(a.Cluster.Routes, b.Cluster.Routes)},
		} {
			if f.differs {
				keys = append(keys, key(f.name))
			}
		}
	}
	return keys
}

// clientChanges pairs the client endpoints of prev and next: those of
// prev no one in next equals are removed, those of next no one in prev
// equals are added (a changed client is one of each). added holds
// indexes into next.Exchange.
func clientChanges(prev, next *config.Config) (removed []exchange.EndpointConfig, added []int) {
	var kept []bool
	for range next.Exchange {
		kept = append(kept, false)
	}
	for _, x := range prev.Exchange {
		if x.Role != config.RoleClient {
			continue
		}
		old := endpointConfig(x)
		found := false
		for j, y := range next.Exchange {
			if !kept[j] && y.Role == config.RoleClient && reflect.DeepEqual(endpointConfig(y), old) {
				kept[j], found = true, true
				break
			}
		}
		if !found {
			removed = append(removed, old)
		}
	}
	for j, y := range next.Exchange {
		if y.Role == config.RoleClient && !kept[j] {
			added = append(added, j)
		}
	}
	return removed, added
}

// checkAddedClients loads the TLS files of the client endpoints next adds.
func checkAddedClients(prev, next *config.Config) error {
	_, added := clientChanges(prev, next)
	if len(added) == 0 {
		return nil
	}
	return checkExchangeFiles(next, func(i int) bool { return slices.Contains(added, i) })
}

// reconfigureExchange removes and adds client endpoints (ops is held,
// and exchangeRefusal found nothing): a changed client is stopped, its
// services withdrawn, and started again.
func (d *Daemon) reconfigureExchange(prev, next *config.Config) {
	removed, added := clientChanges(prev, next)
	for _, cfg := range removed {
		d.x.Remove(cfg)
		d.log.Info("exchange endpoint removed", "connect", strings.Join(cfg.Connect, ","), "group", cfg.Group)
	}
	for _, i := range added {
		x := next.Exchange[i]
		if err := d.x.Add(endpointConfig(x)); err != nil {
			d.log.Error("exchange endpoint not started", "error", next.ExchangeError(i, "", err).Error())
			continue
		}
		d.log.Info("exchange endpoint added", "connect", strings.Join(x.Connect, ","), "group", x.Group)
	}
}
