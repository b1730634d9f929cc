package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
)

// sessionCookie is the web app's session cookie.
const sessionCookie = "atrium_session"

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// route wraps a handler with what every request gets: security headers,
// panic recovery, the client's address and idempotency key in the context,
// request logging and metrics under the route's pattern.
func (s *Server) route(pattern string, h http.HandlerFunc) http.Handler {
	method, path, _ := strings.Cut(pattern, " ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		reqID := newRequestID()
		rec.Header().Set("X-Request-Id", reqID)
		ctx := atrium.WithClientInfo(r.Context(), atrium.ClientInfo{
			IP: s.clientIP(r), UserAgent: r.UserAgent(), IdempotencyKey: r.Header.Get("Idempotency-Key"),
		})
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				writeError(rec, r, s.log, atrium.Internal("panic", fmt.Errorf("%v", p)))
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(path, method, strconv.Itoa(status)).Inc()
			s.metrics.latency.WithLabelValues(path, method).Observe(time.Since(start).Seconds())
			if status >= 500 || s.log.Enabled(ctx, -4) {
				s.log.InfoContext(ctx, "request", "id", reqID, "method", r.Method, "route", path,
					"status", status, "ms", time.Since(start).Milliseconds())
			}
		}()
		h(rec, r.WithContext(ctx))
	})
}

// withSecurityHeaders sets the headers every response carries, the mux's
// own answers included.
func (s *Server) withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.securityHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

func (s *Server) securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if s.cfg.TLS {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
}

// clientIP is the address of the client: the peer, or, when the peer is a
// trusted proxy, the nearest address in X-Forwarded-For that is not one.
func (s *Server) clientIP(r *http.Request) string {
	peer := peerAddr(r)
	if !s.trustedProxy(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trustedProxy(hop.Unmap()) {
			return hop.Unmap().String()
		}
	}
	return peer.String()
}

// peerAddr is the address of the connection's other end.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// trustedProxy reports whether forwarding headers from addr are believed.
func (s *Server) trustedProxy(addr netip.Addr) bool {
	if !s.cfg.BehindProxy || !addr.IsValid() {
		return false
	}
	if len(s.cfg.TrustedProxies) == 0 {
		return addr.IsLoopback()
	}
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// secure reports whether the request reached us over TLS.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || (s.trustedProxy(peerAddr(r)) && r.Header.Get("X-Forwarded-Proto") == "https")
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// authed wraps a handler that needs a signed-in actor. The token comes from
// the Authorization header; allowCookie also accepts the web app's session
// cookie (only for requests that cannot change state).
func (s *Server) authed(h http.HandlerFunc, allowCookie bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, err := bearer(r, allowCookie)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		var act *atrium.Actor
		if auth.ValidTokenShape(token) {
			act, err = s.app.Authenticate(r.Context(), token)
		} else {
			act, err = s.authenticateOAuth(w, r, token) // a third-party app's access token
		}
		if err == nil {
			err = refuseWiped(act, r.Pattern)
		}
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		h(w, r.WithContext(context.WithValue(atrium.WithActor(r.Context(), act), tokenKey{}, token)))
	}
}

type tokenKey struct{}

func bearer(r *http.Request, allowCookie bool) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return "", atrium.Errorf(atrium.EUnauthorized, "the Authorization header must be \"Bearer <token>\"")
		}
		return strings.TrimSpace(token), nil
	}
	if allowCookie {
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", atrium.Errorf(atrium.EUnauthorized, "authentication required")
}
