package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store"
)

// dbFlags are the flags every command that opens the database takes.
type dbFlags struct {
	dataDir       string
	databaseURL   string
	synchronous   string
	masterKeyFile string
	auditKeyFile  string
	blobURL       string
}

// register adds the database flags to fs, with ATRIUM_* environment
// variables as defaults.
func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.dataDir, "data", envOr("ATRIUM_DATA", "./atrium-data"), "data directory (SQLite database, keys, local files) [ATRIUM_DATA]")
	fs.StringVar(&d.databaseURL, "database-url", os.Getenv("ATRIUM_DATABASE_URL"), "postgres:// URL; empty for the embedded SQLite database [ATRIUM_DATABASE_URL]")
	fs.StringVar(&d.masterKeyFile, "master-key-file", os.Getenv("ATRIUM_MASTER_KEY_FILE"), "the master keyring file (default: master.keys in the data dir, created at first start); ATRIUM_MASTER_KEYS may hold the keyring's JSON instead [ATRIUM_MASTER_KEY_FILE]")
	fs.StringVar(&d.auditKeyFile, "audit-key-file", os.Getenv("ATRIUM_AUDIT_KEY_FILE"), "the Ed25519 key that signs audit checkpoints (default: audit-signing.key beside the master keyring, created at first start) [ATRIUM_AUDIT_KEY_FILE]")
	fs.StringVar(&d.blobURL, "blob-url", os.Getenv("ATRIUM_BLOB_URL"), "where file bodies are kept: empty for blobs/ in the data dir, or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=R][&insecure=true] with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set [ATRIUM_BLOB_URL]")
	fs.StringVar(&d.synchronous, "sqlite-synchronous", envOr("ATRIUM_SQLITE_SYNCHRONOUS", "full"), "SQLite durability: full (survives power loss) or normal (survives a crash of the process) [ATRIUM_SQLITE_SYNCHRONOUS]")
}

// auditKeyPath is where the audit signing key is kept: --audit-key-file,
// or beside the master keyring (the data dir when the keyring comes from
// the environment).
func (d *dbFlags) auditKeyPath() string {
	switch {
	case d.auditKeyFile != "":
		return d.auditKeyFile
	case d.masterKeyFile != "":
		return filepath.Join(filepath.Dir(d.masterKeyFile), "audit-signing.key")
	}
	return filepath.Join(d.dataDir, "audit-signing.key")
}

func (d *dbFlags) config() store.Config {
	return store.Config{URL: d.databaseURL, DataDir: d.dataDir, Synchronous: d.synchronous}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// serveConfig is everything `atrium serve` is told.
type serveConfig struct {
	db            dbFlags
	listen        string
	tlsCert       string
	tlsKey        string
	tlsSelfSigned bool
	behindProxy   bool
	origins       listFlag
	proxies       listFlag
	logLevel      string
	debugListen   string
	clamd         string
	publicURL     string
	idpPrivate    bool
}

func parseServe(args []string, e env) (*serveConfig, error) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.db.register(fs)
	fs.StringVar(&c.listen, "listen", envOr("ATRIUM_LISTEN", "127.0.0.1:8080"), "address to listen on [ATRIUM_LISTEN]")
	fs.StringVar(&c.tlsCert, "tls-cert", os.Getenv("ATRIUM_TLS_CERT"), "TLS certificate file (PEM) [ATRIUM_TLS_CERT]")
	fs.StringVar(&c.tlsKey, "tls-key", os.Getenv("ATRIUM_TLS_KEY"), "TLS private key file (PEM) [ATRIUM_TLS_KEY]")
	fs.BoolVar(&c.tlsSelfSigned, "tls-self-signed", os.Getenv("ATRIUM_TLS_SELF_SIGNED") == "true", "serve TLS with a self-signed certificate kept in the data dir (for a trial) [ATRIUM_TLS_SELF_SIGNED]")
	fs.BoolVar(&c.behindProxy, "behind-proxy", os.Getenv("ATRIUM_BEHIND_PROXY") == "true", "a TLS-terminating proxy is in front: plain HTTP on any address, X-Forwarded-For trusted [ATRIUM_BEHIND_PROXY]")
	fs.Var(&c.proxies, "trusted-proxy", "with --behind-proxy, an address or CIDR range of the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (default loopback); repeatable")
	fs.Var(&c.origins, "allowed-origin", "another origin (host pattern) that may open the event stream, e.g. app.example.com; repeatable")
	fs.StringVar(&c.logLevel, "log-level", envOr("ATRIUM_LOG_LEVEL", "info"), "debug, info, warn or error [ATRIUM_LOG_LEVEL]")
	fs.StringVar(&c.publicURL, "public-url", os.Getenv("ATRIUM_PUBLIC_URL"), "where users reach this server, e.g. https://atrium.example.com: the links it makes (invitations), its addresses at identity providers (OpenID callbacks, SAML endpoints), the OAuth issuer and the passkey relying party; default: the request's own scheme and host (and no passkeys unless on loopback) [ATRIUM_PUBLIC_URL]")
	fs.StringVar(&c.clamd, "clamd", os.Getenv("ATRIUM_CLAMD"), "scan every upload with ClamAV's clamd at this address (unix:/run/clamav/clamd.ctl or HOST:PORT); infected ones are quarantined [ATRIUM_CLAMD]")
	fs.BoolVar(&c.idpPrivate, "idp-allow-private-addresses", os.Getenv("ATRIUM_IDP_ALLOW_PRIVATE_ADDRESSES") == "true", "let identity providers (OpenID Connect, SAML metadata URLs) be on private addresses or plain http on loopback; for trials only: it lets administrators make the server reach its own network [ATRIUM_IDP_ALLOW_PRIVATE_ADDRESSES]")
	fs.StringVar(&c.debugListen, "debug-listen", os.Getenv("ATRIUM_DEBUG_LISTEN"), "a loopback address to serve Go's profiler (/debug/pprof/) on, for diagnosis [ATRIUM_DEBUG_LISTEN]")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	return c, c.validate()
}

func (c *serveConfig) tls() bool { return c.tlsCert != "" || c.tlsSelfSigned }

// webAuthn names the server as a WebAuthn relying party: by its public
// URL (https, or http on localhost, as browsers require), or, listening on
// loopback and not behind a proxy, as localhost. Otherwise passkeys stay
// off until --public-url is set. Changing the name later makes every
// registered passkey unusable.
func (c *serveConfig) webAuthn() app.WebAuthnConfig {
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		if err != nil || u.Hostname() == "" {
			return app.WebAuthnConfig{}
		}
		host := strings.ToLower(u.Hostname())
		if u.Scheme != "https" && host != "localhost" {
			return app.WebAuthnConfig{}
		}
		return app.WebAuthnConfig{RPID: host, Origins: []string{strings.ToLower(u.Scheme + "://" + u.Host)}}
	}
	if c.behindProxy {
		return app.WebAuthnConfig{}
	}
	host, port, err := net.SplitHostPort(c.listen)
	if ip := net.ParseIP(host); err == nil && (host == "localhost" || ip != nil && ip.IsLoopback()) {
		scheme := "http"
		if c.tls() {
			scheme = "https"
		}
		return app.WebAuthnConfig{RPID: "localhost", Origins: []string{scheme + "://localhost:" + port}}
	}
	return app.WebAuthnConfig{}
}

// validate refuses an insecure or contradictory configuration.
func (c *serveConfig) validate() error {
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("--public-url must be an http or https URL such as https://atrium.example.com")
		}
	}
	host, _, err := net.SplitHostPort(c.listen)
	if err != nil {
		return fmt.Errorf("serve: --listen %q: %v", c.listen, err)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return fmt.Errorf("serve: --tls-cert and --tls-key go together")
	}
	if c.tlsCert != "" && c.tlsSelfSigned {
		return fmt.Errorf("serve: choose --tls-cert/--tls-key or --tls-self-signed, not both")
	}
	if !loopback(host) && !c.tls() && !c.behindProxy {
		return fmt.Errorf("serve: listening on %q, which is not a loopback address, needs TLS: "+
			"give --tls-cert and --tls-key, or --tls-self-signed for a trial, or --behind-proxy when a TLS-terminating proxy is in front", c.listen)
	}
	if c.debugListen != "" {
		dh, _, err := net.SplitHostPort(c.debugListen)
		if err != nil || !loopback(dh) {
			return fmt.Errorf("serve: --debug-listen must be a loopback address")
		}
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	switch c.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("serve: --log-level must be debug, info, warn or error")
	}
	return nil
}

// trustedProxies parses --trusted-proxy values: addresses or CIDR ranges.
func (c *serveConfig) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range c.proxies {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("serve: --trusted-proxy %q is neither an address nor a CIDR range", v)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// loopback reports whether host only accepts connections from this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
