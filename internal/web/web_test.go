package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ntmledger/ntmledger/internal/web"
)

// MaxPageBytes bounds what a first visit downloads (page and assets,
// gzip-compressed).
const MaxPageBytes = 1 << 20

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestServesPageAndAssets(t *testing.T) {
	d := web.Handler(web.Options{})
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", d)
	mux.Handle("GET /assets/", d)

	resp := get(t, mux, "/", nil)
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("ETag") == "" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET / headers: %v", resp.Header)
	}
	if !bytes.Contains(page, []byte(`lang="vi"`)) || !bytes.Contains(page, []byte("Sổ cái Nông thôn mới")) {
		t.Errorf("the page is not Vietnamese by default")
	}

	// The page links its assets by version; each is served with its type.
	want := map[string]string{"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
	links := regexp.MustCompile(`"(/assets/([a-z.]+)\?v=[0-9a-f]+)"`).FindAllSubmatch(page, -1)
	if len(links) != len(want) {
		t.Fatalf("page links %d versioned assets, want %d:\n%s", len(links), len(want), page)
	}
	for _, l := range links {
		url, name := string(l[1]), string(l[2])
		resp := get(t, mux, url, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want[name] || len(body) == 0 {
			t.Errorf("GET %s: %d %q, %d bytes", url, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", url, got)
		}
		// Unversioned, it must be revalidated.
		if got := get(t, mux, "/assets/"+name, nil).Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET /assets/%s: Cache-Control %q", name, got)
		}
	}

	if resp := get(t, mux, "/assets/nope.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset: %d", resp.StatusCode)
	}
	if resp := get(t, mux, "/nope", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown page: %d", resp.StatusCode)
	}
}

func TestGzipAndConditionalRequests(t *testing.T) {
	d := web.Handler(web.Options{})
	for _, a := range d.Assets() {
		path := "/assets/" + a.Name
		if a.Name == "index.html" {
			path = "/"
		}
		resp := get(t, d, path, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
		if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("GET %s with gzip accepted: %v", path, resp.Header)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, a.Body) {
			t.Fatalf("GET %s: gzip body does not decode to the asset (%v)", path, err)
		}
		etag := resp.Header.Get("ETag")
		if again := get(t, d, path, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s If-None-Match %s: %d", path, etag, again.StatusCode)
		}
		// Identity when gzip is refused; its ETag differs.
		id := get(t, d, path, map[string]string{"Accept-Encoding": "gzip;q=0, identity"})
		if id.Header.Get("Content-Encoding") != "" || id.Header.Get("ETag") == etag {
			t.Errorf("GET %s without gzip: %v", path, id.Header)
		}
		if stale := get(t, d, path, map[string]string{"If-None-Match": `"stale"`}); stale.StatusCode != http.StatusOK {
			t.Errorf("GET %s with a stale ETag: %d", path, stale.StatusCode)
		}
	}
}

// The page loads nothing from outside the node and stays small.
func TestPageIsSelfContainedAndSmall(t *testing.T) {
	d := web.Handler(web.Options{})
	external := regexp.MustCompile(`(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	total := 0
	for _, a := range d.Assets() {
		total += len(a.Gzip)
		for _, m := range external.FindAll(a.Body, -1) {
			if string(m) != "http://www.w3.org" { // the SVG namespace, not a fetch
				t.Errorf("%s refers to %s", a.Name, m)
			}
		}
		t.Logf("%-12s %7d bytes, %6d gzipped", a.Name, len(a.Body), len(a.Gzip))
	}
	t.Logf("page load: %d bytes gzipped", total)
	if total >= MaxPageBytes {
		t.Errorf("page load is %d bytes gzipped, over %d", total, MaxPageBytes)
	}
}
