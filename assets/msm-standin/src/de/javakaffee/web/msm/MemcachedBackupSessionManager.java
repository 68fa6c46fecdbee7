package de.javakaffee.web.msm;

import java.io.IOException;

import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Session;
import org.apache.catalina.session.ManagerBase;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * Same class name and Manager attributes as MSM 2.3.x's Tomcat 9 module, so
 * a context.xml written for real MSM configures this stand-in unchanged:
 * {@code <Manager className="de.javakaffee.web.msm.MemcachedBackupSessionManager" .../>}.
 * Lives in memcached-session-manager-tc9-2.3.2.jar; the rest is in the
 * core jar, like real MSM.
 */
public class MemcachedBackupSessionManager extends ManagerBase implements SessionManager {

    /** Marks a session whose removal must not delete it from memcached (MSM's NODE_FAILURE note). */
    static final String NODE_FAILURE = "node.failure";

    private final Log log = LogFactory.getLog(MemcachedBackupSessionManager.class);
    private final MemcachedSessionService msm = new MemcachedSessionService(this);
    private Integer maxInactiveIntervalOverride;

    @Override
    public String getName() {
        return "MemcachedBackupSessionManager";
    }

    @Override
    protected void startInternal() throws LifecycleException {
        super.startInternal();
        msm.startInternal();
        setState(LifecycleState.STARTING);
    }

    @Override
    protected void stopInternal() throws LifecycleException {
        setState(LifecycleState.STOPPING);
        // Like MSM in sticky mode: forget local sessions, keep them in memcached.
        for (final Session s : findSessions()) {
            if (s.isValid()) {
                ((MemcachedBackupSession) s).passivate();
            }
            sessions.remove(s.getIdInternal());
        }
        msm.shutdown();
        super.stopInternal();
    }

    @Override
    public void load() throws ClassNotFoundException, IOException {
        // nothing: sessions live in memcached
    }

    @Override
    public void unload() throws IOException {
        // nothing: sessions live in memcached
    }

    @Override
    public MemcachedBackupSession newMemcachedBackupSession() {
        return new MemcachedBackupSession(this);
    }

    @Override
    public Session createEmptySession() {
        return newMemcachedBackupSession();
    }

    @Override
    public Session createSession(final String sessionId) {
        // As MSM: a client-provided id without a usable node part is replaced.
        final String id = sessionId != null && msm.isValidForMemcached(sessionId) ? sessionId : null;
        final Session s = super.createSession(id);
        if (maxInactiveIntervalOverride != null) {
            s.setMaxInactiveInterval(maxInactiveIntervalOverride);
        }
        return s;
    }

    /** Tomcat's id (with ".jvmRoute") plus "-nodeId" before the route. */
    @Override
    protected String generateSessionId() {
        return msm.newSessionId(super.generateSessionId());
    }

    @Override
    public Session findSession(final String id) throws IOException {
        return msm.findSession(id);
    }

    @Override
    public MemcachedBackupSession getSessionInternal(final String id) {
        return id == null ? null : (MemcachedBackupSession) sessions.get(id);
    }

    @Override
    public void removeLocal(final String id) {
        sessions.remove(id);
    }

    @Override
    public void remove(final Session session, final boolean update) {
        if (session.getNote(NODE_FAILURE) != Boolean.TRUE) {
            msm.deleteFromMemcached(session.getIdInternal());
        }
        super.remove(session, update);
    }

    @Override
    public void changeSessionId(final Session session) {
        super.changeSessionId(session);
        ((MemcachedBackupSession) session).setSessionIdChanged(true);
    }

    @Override
    public void changeSessionId(final Session session, final String newId) {
        super.changeSessionId(session, newId);
        ((MemcachedBackupSession) session).setSessionIdChanged(true);
    }

    // ---- every MSM 2.3.x Manager attribute ----
    public void setMemcachedNodes(final String v) { msm.setMemcachedNodes(v); }
    public String getMemcachedNodes() { return msm.getMemcachedNodes(); }
    public void setFailoverNodes(final String v) { msm.setFailoverNodes(v); }
    public String getFailoverNodes() { return msm.getFailoverNodes(); }
    public void setRequestUriIgnorePattern(final String v) { msm.setRequestUriIgnorePattern(v); }
    public String getRequestUriIgnorePattern() { return msm.getRequestUriIgnorePattern(); }
    public void setSessionAttributeFilter(final String v) { msm.setSessionAttributeFilter(v); }
    public String getSessionAttributeFilter() { return msm.getSessionAttributeFilter(); }
    public void setSessionBackupAsync(final boolean v) { msm.setSessionBackupAsync(v); }
    public boolean isSessionBackupAsync() { return msm.isSessionBackupAsync(); }
    public void setSessionBackupTimeout(final int v) { msm.setSessionBackupTimeout(v); }
    public long getSessionBackupTimeout() { return msm.getSessionBackupTimeout(); }
    public void setBackupThreadCount(final int v) { msm.setBackupThreadCount(v); }
    public int getBackupThreadCount() { return msm.getBackupThreadCount(); }
    public void setOperationTimeout(final long v) { msm.setOperationTimeout(v); }
    public long getOperationTimeout() { return msm.getOperationTimeout(); }
    public void setTranscoderFactoryClass(final String v) { msm.setTranscoderFactoryClass(v); }
    public String getTranscoderFactoryClass() { return msm.getTranscoderFactoryClass(); }
    public void setMemcachedProtocol(final String v) { msm.setMemcachedProtocol(v); }
    public String getMemcachedProtocol() { return msm.getMemcachedProtocol(); }
    public void setUsername(final String v) { msm.setUsername(v); }
    public void setPassword(final String v) { msm.setPassword(v); }
    public void setStorageKeyPrefix(final String v) { msm.setStorageKeyPrefix(v); }
    public String getStorageKeyPrefix() { return msm.getStorageKeyPrefix(); }
    public void setEnabled(final boolean v) { msm.setEnabled(v); }
    public boolean isEnabled() { return msm.getEnabled(); }
    public void setSticky(final boolean v) { msm.setSticky(v); }
    public boolean isSticky() { return msm.isSticky(); }
    public void setLockingMode(final String v) { msm.setLockingMode(v); }
    public String getLockingMode() { return msm.getLockingMode(); }

    /** Accepted for compatibility; only used by non-sticky locking in real MSM. */
    public void setLockExpiration(final int v) { log.debug("lockExpiration ignored (non-sticky only)"); }

    /** Accepted for compatibility; the stand-in always serializes with Java serialization. */
    public void setCopyCollectionsForSerialization(final boolean v) { }

    /** Accepted for compatibility; only meaningful for custom (e.g. Kryo) transcoders. */
    public void setCustomConverter(final String v) { }

    /** Accepted for compatibility; the stand-in keeps no statistics. */
    public void setEnableStatistics(final boolean v) { }

    public void setMaxInactiveInterval(final int seconds) { maxInactiveIntervalOverride = seconds; }
}
