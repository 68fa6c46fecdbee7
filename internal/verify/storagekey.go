package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/topology"
)

// The probe app as MSM sees it: Tomcat's default Host and the app's context
// name. MSM's storageKeyPrefix tokens "host" and "context" expand to these.
const (
	probeHostName    = "localhost"
	probeContextName = topology.ProbeContext
)

// storageKeyFunc returns how MSM names a session's memcached key for the
// probe app under storageKeyPrefix (MSM's StorageKeyFormat): each token
// static:<x>, host, host.hash, context, context.hash or webappVersion (empty
// for a plain deployment) gives a part, empty parts are dropped, the rest are
// joined by ':' and followed by '_'; no parts = the bare session id.
func storageKeyFunc(prefix string) func(id string) (string, error) {
	return func(id string) (string, error) {
		if strings.TrimSpace(prefix) == "" {
			return id, nil
		}
		var parts []string
		for _, t := range strings.Split(prefix, ",") {
			part, err := storageKeyPart(t)
			if err != nil {
				return "", err
			}
			if strings.TrimSpace(part) != "" {
				parts = append(parts, part)
			}
		}
		if len(parts) == 0 {
			return id, nil
		}
		return strings.Join(parts, ":") + "_" + id, nil
	}
}

func storageKeyPart(token string) (string, error) {
	switch {
	case strings.HasPrefix(token, "static:"):
		return strings.TrimPrefix(token, "static:"), nil
	case token == "host":
		return probeHostName, nil
	case token == "host.hash":
		return msmHash(probeHostName), nil
	case token == "context":
		return probeContextName, nil
	case token == "context.hash":
		return msmHash(probeContextName), nil
	case token == "webappVersion":
		return "", nil
	}
	return "", fmt.Errorf("storage_key_prefix token %q: not one MSM knows (static:<x>, host, host.hash, context, context.hash, webappVersion)", token)
}

// msmHash is MSM's StorageKeyFormat.hashString: the first 8 lowercase hex
// digits of the SHA-256 of the string.
func msmHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}
