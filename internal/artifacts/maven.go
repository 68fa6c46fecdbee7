package artifacts

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Coord is a Maven artifact: a jar in a Maven 2 repository layout.
type Coord struct{ Group, Artifact, Version string }

// File is the jar's file name, as Maven names it.
func (c Coord) File() string { return c.Artifact + "-" + c.Version + ".jar" }

// repoPath is the jar's path below a repository root.
func (c Coord) repoPath() string {
	return strings.ReplaceAll(c.Group, ".", "/") + "/" + c.Artifact + "/" + c.Version + "/" + c.File()
}

func (c Coord) String() string { return c.Group + ":" + c.Artifact + ":" + c.Version }

// Resolver finds jars locally: in ArtifactsDir first (what the user put
// there, offline installs, the lab), else in CacheDir, where a jar lands
// after its one download from Repo, verified against the repository's
// .sha1. Its methods are safe for concurrent use only through
// Cluster.msmJars, which resolves once per run.
type Resolver struct {
	ArtifactsDir string
	CacheDir     string // e.g. ~/.cache/clusterctl/maven, in the repository layout
	Repo         string // root URL, e.g. https://repo1.maven.org/maven2
	Client       *http.Client
}

// DefaultMavenCache is where downloaded jars are kept: $CLUSTERCTL_MAVEN_CACHE,
// else ~/.cache/clusterctl/maven.
func DefaultMavenCache() (string, error) { return CacheDir("CLUSTERCTL_MAVEN_CACHE", "maven") }

// Resolve returns the local path of c's jar, downloading it if needed.
func (r Resolver) Resolve(ctx context.Context, c Coord) (string, error) {
	if r.ArtifactsDir != "" {
		p := filepath.Join(r.ArtifactsDir, c.File())
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	if r.CacheDir == "" {
		return "", fmt.Errorf("%s: not in %s and no download cache", c, r.ArtifactsDir)
	}
	cached := filepath.Join(r.CacheDir, filepath.FromSlash(c.repoPath()))
	// A jar in the cache was verified when it was downloaded: it only ever
	// gets there by rename after the check.
	if _, err := os.Stat(cached); err == nil {
		return cached, nil
	}
	if r.Repo == "" {
		return "", fmt.Errorf("%s: not in %s and msm.maven_repo is empty", c, r.ArtifactsDir)
	}
	if err := r.download(ctx, c, cached); err != nil {
		return "", fmt.Errorf("%s: not in %s; download: %w", c, r.ArtifactsDir, err)
	}
	return cached, nil
}

// download fetches the .sha1 and then the jar into a temp file next to
// dest, and renames it into place only when the checksum matches.
func (r Resolver) download(ctx context.Context, c Coord, dest string) error {
	url := strings.TrimRight(r.Repo, "/") + "/" + c.repoPath()
	sumText, err := r.get(ctx, url+".sha1", 1<<10, io.Discard)
	if err != nil {
		return err
	}
	want := strings.ToLower(firstField(sumText))
	if b, err := hex.DecodeString(want); err != nil || len(b) != sha1.Size {
		return fmt.Errorf("%s.sha1 does not hold a SHA-1", url)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha1.New()
	_, err = r.get(ctx, url, 0, io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: SHA-1 %s does not match the repository's %s", url, got, want)
	}
	return os.Rename(tmp.Name(), dest)
}

// get fetches url into w; with limit > 0 it returns the (small) body as a
// string instead.
func (r Resolver) get(ctx context.Context, url string, limit int64, w io.Writer) (string, error) {
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if limit > 0 {
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
		return string(b), err
	}
	_, err = io.Copy(w, resp.Body)
	return "", err
}

func firstField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
