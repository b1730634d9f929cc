package app

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth/oidclogin"
	"github.com/atrium-dev/atrium/auth/providerhttp"
	"github.com/atrium-dev/atrium/auth/samllogin"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store"
)

// CreateIdentityProviderInput registers an organisation's identity
// provider: OpenID Connect (issuer, client id and secret) or SAML 2.0
// (the IdP's metadata, as XML or from a URL). AuthBase is where this
// server's sign-in endpoints are (the HTTP layer fills it in): the
// provider's are under AuthBase + protocol + "/" + id.
type CreateIdentityProviderInput struct {
	Name              string              `json:"name"`
	Protocol          string              `json:"protocol"`
	Provision         string              `json:"provision"`
	Issuer            string              `json:"issuer,omitempty"`
	ClientID          string              `json:"client_id,omitempty"`
	ClientSecret      string              `json:"client_secret,omitempty"`
	Scopes            []string            `json:"scopes,omitempty"`
	IDPMetadataXML    string              `json:"idp_metadata_xml,omitempty"`
	IDPMetadataURL    string              `json:"idp_metadata_url,omitempty"`
	AllowIDPInitiated *bool               `json:"allow_idp_initiated,omitempty"`
	Claims            atrium.ClaimMapping `json:"claims"`
	LinkByEmail       bool                `json:"link_by_email,omitempty"`
	AuthBase          string              `json:"-"`
}

// idpSecretAD binds a wrapped client secret (or SAML key) to its provider.
func idpSecretAD(id string) string { return "atrium/idp-client-secret/v1/" + id }

// maxClientSecret bounds a provider's client secret.
const maxClientSecret = 1024

// CreateIdentityProvider registers an identity provider (administrators
// only). An OpenID provider's discovery document is read now, so that a
// wrong issuer is refused at once; a SAML IdP's metadata is read and
// checked, and this server gets a key of its own for it. Secrets are kept
// encrypted under the organisation's key.
func (a *App) CreateIdentityProvider(ctx context.Context, in CreateIdentityProviderInput) (*store.IdentityProvider, error) {
	act, err := a.adminOf(ctx, "identity_provider.create")
	if err != nil {
		return nil, err
	}
	p, err := in.provider(act)
	if err != nil {
		return nil, err
	}
	var secret []byte
	switch p.Protocol {
	case atrium.ProtocolOIDC:
		secret, err = a.prepareOIDC(ctx, p, in)
	case atrium.ProtocolSAML:
		secret, err = a.prepareSAML(ctx, p, in)
	}
	if err != nil {
		return nil, err
	}
	if len(secret) > 0 {
		fs, err := a.files()
		if err != nil {
			return nil, err
		}
		orgKey, err := a.orgKey(ctx, fs, act.User.OrgID)
		if err != nil {
			return nil, err
		}
		if p.SecretWrapped, err = sealed.Wrap(orgKey, secret, idpSecretAD(p.ID)); err != nil {
			return nil, atrium.Internal("app.CreateIdentityProvider", err)
		}
	}
	err = a.write(ctx, func(w *writer) error {
		p.CreatedAt = w.now
		if err := w.AddIdentityProvider(w.ctx, p); err != nil {
			return err
		}
		return w.audit(p.OrgID, "identity_provider.create", "identity_provider", p.ID,
			p.Protocol+" "+p.Settings.Issuer+p.Settings.IDPEntityID+", provision "+p.Provision)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// prepareOIDC checks an OpenID provider's issuer by reading its discovery
// document, and returns the client secret to keep.
func (a *App) prepareOIDC(ctx context.Context, p *store.IdentityProvider, in CreateIdentityProviderInput) ([]byte, error) {
	if in.IDPMetadataXML != "" || in.IDPMetadataURL != "" || in.AllowIDPInitiated != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "idp_metadata_xml, idp_metadata_url and allow_idp_initiated are SAML settings")
	}
	if err := providerhttp.CheckURL(p.Settings.Issuer, a.cfg.IdPAllowPrivate, false); err != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "issuer: %v", err)
	}
	p.Settings.CallbackURL = strings.TrimRight(in.AuthBase, "/") + "/oidc/" + p.ID + "/callback"
	if _, err := oidclogin.Discover(ctx, a.idps.client, a.oidcConfig(p, "")); err != nil {
		// What the issuer answered stays in the log: it could be any
		// server's answer, not the administrator's to read.
		a.log.Warn("identity provider: discovery failed", "issuer", p.Settings.Issuer, "err", err)
		return nil, atrium.Errorf(atrium.EInvalid, "the issuer's discovery document could not be read, or names endpoints that are not https")
	}
	return []byte(in.ClientSecret), nil
}

// provider checks the input and returns the provider it describes.
func (in CreateIdentityProviderInput) provider(act *atrium.Actor) (*store.IdentityProvider, error) {
	if err := atrium.CheckText("name", strings.TrimSpace(in.Name), atrium.MaxNameLen); err != nil {
		return nil, err
	}
	switch in.Provision {
	case ProvisionClient, ProvisionInternal, ProvisionNone:
	default:
		return nil, atrium.Errorf(atrium.EInvalid, "provision must be \"client\", \"internal\" or \"none\"")
	}
	if len(in.ClientSecret) > maxClientSecret {
		return nil, atrium.Errorf(atrium.EInvalid, "client_secret is at most %d bytes", maxClientSecret)
	}
	if in.Protocol == atrium.ProtocolSAML && in.ClientSecret != "" {
		return nil, atrium.Errorf(atrium.EInvalid, "client_secret is an OpenID Connect setting")
	}
	s := atrium.IdPSettings{Issuer: in.Issuer, ClientID: in.ClientID, Scopes: in.Scopes, Claims: in.Claims, LinkByEmail: in.LinkByEmail,
		IDPMetadataURL: strings.TrimSpace(in.IDPMetadataURL)}
	s.Normalize(in.Protocol)
	if err := s.Validate(in.Protocol); err != nil {
		return nil, err
	}
	return &store.IdentityProvider{ID: atrium.NewID(), OrgID: act.User.OrgID, Protocol: in.Protocol, Name: strings.TrimSpace(in.Name),
		Provision: in.Provision, Settings: s, CreatedBy: act.User.ID}, nil
}

// ListIdentityProviders returns a page of the organisation's providers
// (administrators only), without secrets.
func (a *App) ListIdentityProviders(ctx context.Context, p Page) ([]*store.IdentityProvider, string, error) {
	act, err := a.adminOf(ctx, "identity_provider.list")
	if err != nil {
		return nil, "", err
	}
	return pageAfterID(p, func(after string, limit int) ([]*store.IdentityProvider, error) {
		return a.store.ListIdentityProviders(ctx, act.User.OrgID, after, limit)
	}, func(p *store.IdentityProvider) string { return p.ID })
}

// DisableIdentityProvider turns a provider off (administrators only):
// sign-ins through it are refused from then on, those in flight too.
func (a *App) DisableIdentityProvider(ctx context.Context, id string) error {
	act, err := a.adminOf(ctx, "identity_provider.disable")
	if err != nil {
		return err
	}
	if !atrium.ValidID(id) {
		return atrium.NotFound("identity provider")
	}
	err = a.write(ctx, func(w *writer) error {
		if err := w.DisableIdentityProvider(w.ctx, act.User.OrgID, id, w.now); err != nil {
			return err
		}
		return w.audit(act.User.OrgID, "identity_provider.disable", "identity_provider", id, "")
	})
	if err == nil {
		a.idps.forget(id)
	}
	return a.deny(ctx, err, act.User.OrgID, "identity_provider.disable", "identity_provider", id)
}

// idpCacheTTL is how long a discovered provider (with its signing keys)
// is kept before its discovery document is read again; a provider
// disabled on another node is refused by every node at once all the same
// (the store says so), and its entry here goes when it expires.
const idpCacheTTL = time.Hour

// idpCache keeps providers ready for sign-ins, by provider id.
type idpCache struct {
	client *http.Client
	mu     sync.Mutex
	m      map[string]cachedIdP
}

type cachedIdP struct {
	oidc *oidclogin.Provider
	saml *samllogin.Provider
	at   time.Time
}

func newIdPCache(client *http.Client, allowPrivate bool) *idpCache {
	if client == nil {
		client = providerhttp.Client(allowPrivate)
	}
	return &idpCache{client: client, m: map[string]cachedIdP{}}
}

// lookup returns a provider's fresh entry.
func (c *idpCache) lookup(id string, now time.Time) (cachedIdP, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	return e, ok && now.Sub(e.at) < idpCacheTTL
}

// store keeps a provider's entry, and drops expired ones.
func (c *idpCache) store(id string, e cachedIdP) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, old := range c.m {
		if e.at.Sub(old.at) >= idpCacheTTL {
			delete(c.m, k)
		}
	}
	c.m[id] = e
}

// forget drops a provider's entry.
func (c *idpCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// oidcConfig is an OpenID provider's configuration, with its secret.
func (a *App) oidcConfig(p *store.IdentityProvider, secret string) oidclogin.Config {
	return oidclogin.Config{Issuer: p.Settings.Issuer, ClientID: p.Settings.ClientID, ClientSecret: secret,
		RedirectURL: p.Settings.CallbackURL, Scopes: p.Settings.Scopes, AllowPrivate: a.cfg.IdPAllowPrivate}
}

// oidcProvider returns an OpenID provider, discovered.
func (a *App) oidcProvider(ctx context.Context, p *store.IdentityProvider) (*oidclogin.Provider, error) {
	now := time.Now()
	if e, ok := a.idps.lookup(p.ID, now); ok && e.oidc != nil {
		return e.oidc, nil
	}
	secret, err := a.idpSecret(ctx, p)
	if err != nil {
		return nil, err
	}
	d, err := oidclogin.Discover(ctx, a.idps.client, a.oidcConfig(p, secret))
	if err != nil {
		a.log.Warn("identity provider unreachable", "provider", p.ID, "err", err)
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: the provider's discovery failed")
		return nil, atrium.Errorf(atrium.EUnavailable, "the identity provider cannot be reached; try again later")
	}
	a.idps.store(p.ID, cachedIdP{oidc: d, at: now})
	return d, nil
}

// idpSecret unwraps a provider's client secret ("" for a public client).
func (a *App) idpSecret(ctx context.Context, p *store.IdentityProvider) (string, error) {
	if len(p.SecretWrapped) == 0 {
		return "", nil
	}
	fs, err := a.files()
	if err != nil {
		return "", err
	}
	orgKey, err := a.orgKey(ctx, fs, p.OrgID)
	if err != nil {
		return "", err
	}
	secret, err := sealed.Unwrap(orgKey, p.SecretWrapped, idpSecretAD(p.ID))
	if err != nil {
		return "", atrium.Internal("app.idpSecret", err)
	}
	return string(secret), nil
}
