package de.javakaffee.web.msm;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * The memcached key for a session id, following MSM's storageKeyPrefix
 * rules (tokens static:x, host, host.hash, context, context.hash,
 * webappVersion joined by ':' and followed by '_'). The default
 * "webappVersion" is empty for plain deployments, so the key is the bare
 * session id -- which is what clusterctl's verify looks for.
 */
public final class StorageKeyFormat {

    private static final Pattern STATIC = Pattern.compile("static:([^:]+)");

    private final String prefix; // null = no prefix

    private StorageKeyFormat(final String prefix) {
        this.prefix = prefix;
    }

    public static StorageKeyFormat of(final String config, final String host, final String context,
            final String webappVersion) {
        if (config == null || config.trim().isEmpty()) {
            return new StorageKeyFormat(null);
        }
        final StringBuilder sb = new StringBuilder();
        for (final String token : config.split(",")) {
            final String value = token(token.trim(), host, context, webappVersion);
            if (value != null && !value.trim().isEmpty()) {
                if (sb.length() > 0) {
                    sb.append(':');
                }
                sb.append(value);
            }
        }
        return new StorageKeyFormat(sb.length() == 0 ? null : sb.append('_').toString());
    }

    private static String token(final String t, final String host, final String context, final String version) {
        final Matcher m = STATIC.matcher(t);
        if (m.matches()) {
            return m.group(1);
        }
        switch (t) {
            case "host": return host;
            case "host.hash": return hash(host);
            case "context": return context;
            case "context.hash": return hash(context);
            case "webappVersion": return version;
            default: throw new IllegalArgumentException("Unsupported storageKeyPrefix token " + t);
        }
    }

    private static String hash(final String s) {
        try {
            final byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            final StringBuilder sb = new StringBuilder();
            for (final byte b : d) {
                sb.append(String.format("%02x", b & 0xff));
            }
            return sb.substring(0, 8);
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public String format(final String sessionId) {
        return prefix == null ? sessionId : prefix + sessionId;
    }

    @Override
    public String toString() {
        return prefix == null ? "" : prefix;
    }
}
