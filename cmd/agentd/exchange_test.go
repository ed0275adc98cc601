package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// check loads the TLS files of every [[exchange]] entry and names each
// one that cannot be used with file, line and key; run refuses to start
// with the same errors.
func TestCheckAndRunReportBadTLSFiles(t *testing.T) {
	dir := files(t, map[string]string{
		"config.toml": `[[exchange]]
role = "server"
listen = "127.0.0.1:0"

[exchange.tls]
cert = "missing.pem"
key = "hub.key"

[[exchange]]
role = "client"
connect = ["tls://127.0.0.1:1"]
tls = { ca = "garbage.pem" }
`,
		"hub.key":     "not a key\n",
		"garbage.pem": "not a certificate\n",
	})
	want := "config.toml:6: exchange[1].tls.cert: cannot read: no such file or directory (" + filepath.Join(dir, "missing.pem") + ")\n" +
		"config.toml:12: exchange[2].tls.ca: no PEM certificate in the file (" + filepath.Join(dir, "garbage.pem") + ")\n"
	code, out, errs := runBinary(t, dir, "check", "-c", "config.toml")
	if code != exitFailure || out != "" || errs != want {
		t.Errorf("check: exit %d\nstdout %q\nstderr:\n%s\nwant:\n%s", code, out, errs, want)
	}
	code, _, errs = runBinary(t, dir, "run", "-c", "config.toml")
	if code != exitFailure || !strings.Contains(errs, want) {
		t.Errorf("run: exit %d\nstderr:\n%s\nwant it to contain:\n%s", code, errs, want)
	}
}

// run exits 1 when its hub cannot listen, naming the entry and the cause.
func TestRunExitsWhenTheHubCannotListen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := files(t, map[string]string{"config.toml": "[[exchange]]\nrole = \"server\"\nlisten = \"" + l.Addr().String() + "\"\n"})
	code, _, errs := runBinary(t, dir, "run", "-c", "config.toml")
	if code != exitFailure || !strings.Contains(errs, "config.toml:1: exchange[1]: exchange: hub on "+l.Addr().String()+" cannot start") ||
		!strings.Contains(errs, "address already in use") {
		t.Errorf("exit %d\nstderr:\n%s", code, errs)
	}
}

// A hub open to other machines without a token is a configuration error.
func TestCheckRefusesAnOpenHub(t *testing.T) {
	dir := files(t, map[string]string{"config.toml": "[[exchange]]\nrole = \"server\"\nlisten = \"0.0.0.0:11111\"\n"})
	code, _, errs := runBinary(t, dir, "check", "-c", "config.toml")
	want := `config.toml:1: exchange[1].token: the hub would accept anyone: "0.0.0.0:11111" is reachable from other machines, ` +
		"and there is neither a token nor client certificates (tls.ca); set a token, or insecure = true to accept anyone\n"
	if code != exitUsage || errs != want {
		t.Errorf("exit %d\nstderr:\n%s\nwant:\n%s", code, errs, want)
	}
}
