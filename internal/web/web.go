// Package web serves the dashboard (contract §6): one HTML page and its
// script and style sheet, embedded in the binary, that read the JSON API and
// follow /v1/live. Nothing is fetched from anywhere but the serving node,
// and nothing needs a JavaScript build: the assets are hand-written.
//
// Every asset is prepared once: its content type, a strong ETag from its
// SHA-256, and a gzip copy. The page links its assets with ?v=<etag>, so a
// versioned asset URL is cached for a year (immutable) and the page itself
// is revalidated on every load (no-cache + ETag → 304).
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed assets
var assetFS embed.FS

// IndexPath is the URL of the page; AssetPrefix the URL prefix of its
// assets.
const (
	IndexPath   = "/"
	AssetPrefix = "/assets/"
)

// Header names and values used below.
const (
	hdrCacheControl    = "Cache-Control"
	hdrContentEncoding = "Content-Encoding"
	hdrContentType     = "Content-Type"
	hdrContentLength   = "Content-Length"
	hdrETag            = "ETag"
	hdrIfNoneMatch     = "If-None-Match"
	hdrVary            = "Vary"
	hdrAcceptEncoding  = "Accept-Encoding"
	hdrCSP             = "Content-Security-Policy"
	hdrNoSniff         = "X-Content-Type-Options"

	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
	// The page talks to its own origin only; styles set from script
	// (bar widths) are CSSOM writes, which style-src 'self' allows.
	csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// Options configures the dashboard handler.
type Options struct {
	// Logger receives request errors. Default slog.Default().
	Logger *slog.Logger
}

// Asset is one prepared file.
type Asset struct {
	Name        string // path under assets/, e.g. "app.js"
	ContentType string
	ETag        string // quoted, of the identity encoding
	Body        []byte
	Gzip        []byte // gzip-compressed Body
}

// gzipETag is the ETag of an asset's gzip encoding: a different
// representation needs a different strong validator.
func (a *Asset) gzipETag() string { return strings.TrimSuffix(a.ETag, `"`) + `-gz"` }

// Dashboard serves the page (GET /) and its assets (GET /assets/…).
type Dashboard struct {
	log    *slog.Logger
	index  *Asset
	assets map[string]*Asset // by name
}

// Handler returns the dashboard handler. Mount it on "GET /{$}" and
// "GET /assets/".
func Handler(opts Options) *Dashboard {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	p := prepared()
	return &Dashboard{log: log.With("component", "web"), index: p.index, assets: p.assets}
}

// Assets returns the prepared page and assets, the page first.
func (d *Dashboard) Assets() []*Asset {
	out := make([]*Asset, 0, len(d.assets)+1)
	for _, a := range d.assets {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Asset) int { return strings.Compare(a.Name, b.Name) })
	return append([]*Asset{d.index}, out...)
}

type preparedSet struct {
	index  *Asset
	assets map[string]*Asset
}

// prepared reads, hashes and compresses the embedded files once per
// process. A failure here is a broken build (the files are compiled in),
// hence the panic.
var prepared = sync.OnceValue(func() preparedSet {
	p, err := prepare(assetFS)
	if err != nil {
		panic(fmt.Sprintf("web: embedded assets: %v", err))
	}
	return p
})

func prepare(fsys fs.FS) (preparedSet, error) {
	p := preparedSet{assets: map[string]*Asset{}}
	var indexBody []byte
	err := fs.WalkDir(fsys, "assets", func(name string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		rel := strings.TrimPrefix(name, "assets/")
		if rel == "index.html" {
			indexBody = b
			return nil
		}
		a, err := newAsset(rel, b)
		if err != nil {
			return err
		}
		p.assets[rel] = a
		return nil
	})
	if err != nil {
		return p, err
	}
	if indexBody == nil {
		return p, fmt.Errorf("assets/index.html is missing")
	}
	// Link every asset by its version, so browsers may keep it for good.
	for name, a := range p.assets {
		ref := []byte(`"` + AssetPrefix + name + `"`)
		ver := []byte(`"` + AssetPrefix + name + "?v=" + strings.Trim(a.ETag, `"`) + `"`)
		indexBody = bytes.ReplaceAll(indexBody, ref, ver)
	}
	p.index, err = newAsset("index.html", indexBody)
	return p, err
}

func newAsset(name string, body []byte) (*Asset, error) {
	ct := contentType(name)
	if ct == "" {
		return nil, fmt.Errorf("asset %s: no content type for its extension", name)
	}
	sum := sha256.Sum256(body)
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", name, err)
	}
	return &Asset{Name: name, ContentType: ct, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, Body: body, Gzip: gz.Bytes()}, nil
}

// contentType is fixed per extension rather than taken from the host's
// MIME tables, which differ between machines (.js in particular).
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	}
	return mime.TypeByExtension(path.Ext(name))
}

func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var a *Asset
	cache := cacheRevalidate
	switch {
	case r.URL.Path == IndexPath:
		a = d.index
		w.Header().Set(hdrCSP, csp)
	case strings.HasPrefix(r.URL.Path, AssetPrefix):
		a = d.assets[strings.TrimPrefix(r.URL.Path, AssetPrefix)]
		if a != nil && r.URL.Query().Get("v") == strings.Trim(a.ETag, `"`) {
			cache = cacheImmutable
		}
	}
	if a == nil {
		http.NotFound(w, r)
		return
	}
	body, etag := a.Body, a.ETag
	gz := acceptsGzip(r.Header.Get(hdrAcceptEncoding))
	if gz {
		body, etag = a.Gzip, a.gzipETag()
	}
	h := w.Header()
	h.Set(hdrContentType, a.ContentType)
	h.Set(hdrCacheControl, cache)
	h.Set(hdrETag, etag)
	h.Set(hdrNoSniff, "nosniff")
	h.Add(hdrVary, hdrAcceptEncoding)
	if matches(r.Header.Get(hdrIfNoneMatch), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		h.Set(hdrContentEncoding, "gzip")
	}
	h.Set(hdrContentLength, strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(body); err != nil {
		d.log.Debug("write asset", "path", r.URL.Path, "err", err)
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (or
// "*") with a non-zero quality.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// matches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func matches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
