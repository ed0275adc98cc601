package exchange

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/agentd/agentd/internal/config"

	"github.com/agentd/agentd/internal/regfile"
	"github.com/nats-io/nats.go"
)

// A TLSFileError is a TLS file of an endpoint that cannot be used.
type TLSFileError struct {
	Field string // "cert", "key" or "ca"
	Path  string
	Err   error
}

func (e *TLSFileError) Error() string {
	return fmt.Sprintf("exchange: tls %s %s: %v", e.Field, e.Path, e.Err)
}

func (e *TLSFileError) Unwrap() error { return e.Err }

// tlsFiles is the content of an endpoint's TLS files.
type tlsFiles struct {
	cert *tls.Certificate // nil without cert and key
	pool *x509.CertPool   // nil without ca
}

// CheckTLS loads the files of t as Add would. The error, if any, joins a
// *TLSFileError for each file that cannot be used.
func CheckTLS(t TLSConfig) error {
	_, err := loadTLS(t)
	return err
}

// loadTLS reads and parses t's files: cert and key must be PEM and make a
// pair, ca must hold at least one PEM certificate. Only regular files are
// read (see package regfile).
func loadTLS(t TLSConfig) (*tlsFiles, error) {
	var errs []error
	bad := func(field, path string, err error) {
		errs = append(errs, &TLSFileError{Field: field, Path: path, Err: err})
	}
	read := func(field, path string) []byte {
		b, err := regfile.Read(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			bad(field, path, fmt.Errorf("cannot read: %w", err))
			return nil
		}
		return b
	}
	f := &tlsFiles{}
	if (t.Cert == "") != (t.Key == "") {
		return nil, errors.New("exchange: tls: cert and key must be given together")
	}
	if t.Cert != "" {
		certPEM, keyPEM := read("cert", t.Cert), read("key", t.Key)
		certOK := certPEM != nil && checkCertificates("cert", t.Cert, certPEM, bad)
		if certOK && keyPEM != nil {
			pair, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				bad("key", t.Key, fmt.Errorf("not the private key of %s: %v", t.Cert, strings.TrimPrefix(err.Error(), "tls: ")))
			} else {
				f.cert = &pair
			}
		}
	}
	if t.CA != "" {
		if b := read("ca", t.CA); b != nil && checkCertificates("ca", t.CA, b, bad) {
			f.pool = x509.NewCertPool()
			f.pool.AppendCertsFromPEM(b)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// checkCertificates reports whether b holds PEM certificates, all valid.
func checkCertificates(field, path string, b []byte, bad func(field, path string, err error)) bool {
	n := 0
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			bad(field, path, fmt.Errorf("certificate %d: %v", n+1, err))
			return false
		}
		n++
	}
	if n == 0 {
		bad(field, path, errors.New("no PEM certificate in the file"))
		return false
	}
	return true
}

// hubTLS is the TLS configuration of a hub's client listener: its
// certificate, and with a CA, client certificates required and verified.
func (f *tlsFiles) hubTLS() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*f.cert}}
	if f.pool != nil {
		c.ClientCAs = f.pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

// routeTLS is the TLS configuration of a hub's routes: each hub presents
// its certificate and verifies the other's, against the CA (or the
// system's roots without one), whichever dialled.
func (f *tlsFiles) routeTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{*f.cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    f.pool,
		RootCAs:      f.pool,
	}
}

// clientTLS is a client's TLS configuration: the CA verifies the hub,
// the certificate is presented to it.
func (f *tlsFiles) clientTLS() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: f.pool}
	if f.cert != nil {
		c.Certificates = []tls.Certificate{*f.cert}
	}
	return c
}

// routeUser is the user hubs of one cluster present to each other.
const routeUser = "agentd-route"

// routePassword derives the password of routes from an endpoint's token
// (NATS routes do not take tokens): hubs sharing the token can route to
// one another, others cannot, and the token itself never travels on a
// route.
func routePassword(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("agentd cluster route"))
	return hex.EncodeToString(mac.Sum(nil))
}

// defaultClusterName names a cluster whose configuration does not.
const defaultClusterName = "agentd"

// ErrInsecure is the error of a hub that would accept anyone from other
// machines.
var ErrInsecure = errors.New("exchange: a hub reachable from other machines needs a token or client certificates (tls ca), or insecure")

// checkExposure refuses a server endpoint that listens (or takes routes)
// beyond loopback with neither a token nor client certificate
// verification, unless it is Insecure.
func checkExposure(cfg EndpointConfig) error {
	if cfg.Role != RoleServer || cfg.Insecure || cfg.Token != "" || cfg.TLS.Cert != "" && cfg.TLS.CA != "" {
		return nil
	}
	for _, addr := range []string{cfg.Listen, cfg.Cluster.Listen} {
		if addr != "" && !config.Loopback(addr) {
			return fmt.Errorf("%w: %s is not a loopback address", ErrInsecure, addr)
		}
	}
	return nil
}

// connectHint says what a failed connection attempt means, when the
// error is one a configuration causes.
func connectHint(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	msg := ""
	if err != nil {
		msg = strings.ToLower(err.Error())
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), strings.Contains(msg, "authorization violation"):
		return "the hub refused this process: its token is missing or wrong (the endpoint's token must be the hub's)"
	case errors.As(err, &unknownCA):
		return "the hub's certificate is not signed by a known authority: give its CA in the endpoint's tls ca"
	case errors.As(err, &hostname):
		return "the hub's certificate does not name the host in the URL"
	case errors.As(err, &certInvalid):
		return "the hub's certificate is not valid"
	case errors.Is(err, nats.ErrSecureConnRequired), strings.Contains(msg, "secure connection required"):
		return "the hub requires TLS: use a tls:// URL (and the hub's CA in tls ca)"
	case errors.Is(err, nats.ErrSecureConnWanted), strings.Contains(msg, "secure connection not available"):
		return "the hub does not speak TLS: drop tls from the endpoint, or give the hub a certificate"
	case strings.Contains(msg, "certificate required"), strings.Contains(msg, "bad certificate"), strings.Contains(msg, "unknown certificate authority"):
		return "the hub refused this process's certificate (or wants one): give the endpoint a tls cert and key the hub's CA signed"
	case strings.Contains(msg, "closed by remote after tls handshake"):
		// TLS 1.3: the client may finish before the hub checks its certificate
		return "the hub closed the connection after the TLS handshake: it most likely refused this process's certificate (or wants one): " +
			"give the endpoint a tls cert and key the hub's CA signed"
	}
	return ""
}
