package de.javakaffee.web.msm;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * Session id layout as in MSM 2.3.x (sticky mode):
 * {@code <tomcat id>-<memcached node id>[.<jvmRoute>]}, e.g.
 * {@code 0123...CDEF-n2.t1}. The methods mirror MSM's SessionIdFormat so the
 * ids this stand-in produces are the ids real MSM produces.
 */
public class SessionIdFormat {

    /** Inserts "-nodeId" before the jvmRoute (if any). */
    public String createSessionId(final String sessionId, final String nodeId) {
        if (nodeId == null) {
            return sessionId;
        }
        final int dot = sessionId.indexOf('.');
        return dot < 0
            ? sessionId + "-" + nodeId
            : sessionId.substring(0, dot) + "-" + nodeId + sessionId.substring(dot);
    }

    /** Replaces (or adds) the node id, keeping hex part and jvmRoute. */
    public String createNewSessionId(final String sessionId, final String newNodeId) {
        final int dash = sessionId.indexOf('-');
        final int dot = sessionId.indexOf('.');
        final String base;
        if (dash < 0) {
            base = (dot < 0 ? sessionId : sessionId.substring(0, dot)) + "-" + newNodeId;
        } else {
            base = sessionId.substring(0, dash + 1) + newNodeId;
        }
        return dot < 0 ? base : base + sessionId.substring(dot);
    }

    /** The node id between '-' and '.', or null when the id carries none. */
    public String extractMemcachedId(final String sessionId) {
        final int dash = sessionId.indexOf('-');
        if (dash < 0) {
            return null;
        }
        final int dot = sessionId.indexOf('.');
        return dot < 0 ? sessionId.substring(dash + 1) : sessionId.substring(dash + 1, dot);
    }

    /** The jvmRoute after the first '.', or null. */
    public String extractJvmRoute(final String sessionId) {
        final int dot = sessionId.indexOf('.');
        return dot < 0 ? null : sessionId.substring(dot + 1);
    }

    public String changeJvmRoute(final String sessionId, final String newJvmRoute) {
        return stripJvmRoute(sessionId) + "." + newJvmRoute;
    }

    public String stripJvmRoute(final String sessionId) {
        final int dot = sessionId.indexOf('.');
        return dot < 0 ? sessionId : sessionId.substring(0, dot);
    }

    /** Same pattern as MSM: {@code [^-.]+-[^.]+(\.[\w]+)?}. */
    public boolean isValid(final String sessionId) {
        return sessionId != null && sessionId.matches("[^-.]+-[^.]+(\\.[\\w]+)?");
    }
}
