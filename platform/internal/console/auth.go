package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// Cookie names. Under TLS the session cookie takes the __Host- prefix: the
// browser then keeps it only if it is Secure, for the whole host, with no
// Domain, so no sibling host can set or read it.
const (
	cookieSession       = "amp_session"
	cookieSessionSecure = "__Host-amp_session"
	cookieSignin        = "amp_signin"
	cookieSigninSecure  = "__Host-amp_signin"
)

func (c *Console) sessionCookie() string {
	if c.cfg.Secure {
		return cookieSessionSecure
	}
	return cookieSession
}

func (c *Console) signinCookie() string {
	if c.cfg.Secure {
		return cookieSigninSecure
	}
	return cookieSignin
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: c.cfg.Secure,
		SameSite: http.SameSiteStrictMode,
	}
	if maxAge > 0 {
		ck.MaxAge = int(maxAge / time.Second)
		ck.Expires = c.cfg.Now().Add(maxAge)
	} else {
		ck.MaxAge = -1
	}
	http.SetCookie(w, ck)
}

// safeNext returns a local path to go to after signing in ("/" unless next
// is a path on this console).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

type signinData struct {
	Next  string
	Error string
}

// signinPage shows the sign-in form. Its CSRF token is a random value in a
// short-lived cookie and in the form (there is no session yet); the admin
// token is only ever posted, never in a URL.
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.showSignin(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	tok := randomToken()
	c.setCookie(w, c.signinCookie(), tok, 30*time.Minute)
	c.render(w, r, status, "signin", &page{Title: "Sign in", CSRF: tok, Data: signinData{Next: safeNext(next), Error: msg}})
}

func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.showSignin(w, r, http.StatusBadRequest, "", "The form could not be read.")
		return
	}
	next := r.PostForm.Get("next")
	ck, err := r.Cookie(c.signinCookie())
	if err != nil || !sameOrigin(r) || !equal(ck.Value, r.PostForm.Get("csrf")) {
		c.showSignin(w, r, http.StatusForbidden, next, "The sign-in form expired or did not come from this console: try again.")
		return
	}
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	want, ok, err := c.st.Setting(r.Context(), fleet.SettingAdminTokenHash)
	if err != nil {
		c.dbError(w, r, nil, err)
		return
	}
	if !ok || tok == "" || !equal(fleet.HashToken(tok), want) {
		c.log.Warn("console sign-in refused: wrong admin token", "remote", r.RemoteAddr)
		c.showSignin(w, r, http.StatusUnauthorized, next, "That is not the admin token.")
		return
	}
	id := randomToken()
	now := c.cfg.Now()
	se := store.Session{IDHash: hashHex(id), CSRF: randomToken(), AdminHash: want, CreatedAt: now, ExpiresAt: now.Add(c.cfg.SessionTTL)}
	if err := c.st.CreateSession(r.Context(), se); err != nil {
		c.dbError(w, r, nil, err)
		return
	}
	c.setCookie(w, c.signinCookie(), "", 0)
	c.setCookie(w, c.sessionCookie(), id, c.cfg.SessionTTL)
	c.log.Info("console sign-in", "remote", r.RemoteAddr, "expires", se.ExpiresAt.UTC().Format(time.RFC3339))
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, p *page) {
	if err := c.st.DeleteSession(r.Context(), p.session.IDHash); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	c.setCookie(w, c.sessionCookie(), "", 0)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

var errNoSession = errors.New("not signed in")

// session returns the request's valid session: its cookie names a stored
// session that has not expired and was made with the current admin token.
func (c *Console) session(r *http.Request) (store.Session, error) {
	ck, err := r.Cookie(c.sessionCookie())
	if err != nil || ck.Value == "" {
		return store.Session{}, errNoSession
	}
	se, err := c.st.Session(r.Context(), hashHex(ck.Value), c.cfg.Now())
	if errors.Is(err, store.ErrNotFound) {
		return se, errNoSession
	}
	if err != nil {
		return se, err
	}
	want, ok, err := c.st.Setting(r.Context(), fleet.SettingAdminTokenHash)
	if err != nil {
		return se, err
	}
	if !ok || !equal(se.AdminHash, want) {
		return se, errNoSession // the admin token changed since
	}
	return se, nil
}

// sameOrigin refuses a request the browser says came from another site
// (Sec-Fetch-Site) or whose Origin is another host; requests without
// either header (older browsers, tools) rely on the CSRF token alone.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// signedIn runs h for a signed-in admin; anyone else is sent to sign in
// (the page asked for comes back after). A POST must carry the session's
// CSRF token and come from this console.
func (c *Console) signedIn(h func(http.ResponseWriter, *http.Request, *page)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		se, err := c.session(r)
		if err != nil {
			if !errors.Is(err, errNoSession) {
				c.dbError(w, r, nil, err)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		p := &page{CSRF: se.CSRF, Now: c.cfg.Now(), session: se}
		if r.Method == http.MethodPost {
			limit := int64(maxForm)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				limit = maxUpload
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			var perr error
			if limit == maxUpload {
				perr = r.ParseMultipartForm(maxUpload)
			} else {
				perr = r.ParseForm()
			}
			if perr != nil {
				c.errorPage(w, r, p, http.StatusBadRequest, "The form could not be read: "+perr.Error())
				return
			}
			if !sameOrigin(r) || !equal(r.PostFormValue("csrf"), se.CSRF) {
				c.log.Warn("console: form refused: CSRF token missing or wrong", "path", r.URL.Path, "remote", r.RemoteAddr)
				c.errorPage(w, r, p, http.StatusForbidden, "This form did not come from this console session (its CSRF token is missing or wrong). Reload the page and try again.")
				return
			}
		}
		h(w, r, p)
	})
}
