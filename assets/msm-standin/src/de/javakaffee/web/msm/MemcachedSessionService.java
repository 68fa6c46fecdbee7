package de.javakaffee.web.msm;

import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * The Tomcat-version independent core: configuration, session lookup in
 * memcached, the id changes on Tomcat/memcached failover and the backup of
 * sessions after a request. Sticky mode only.
 */
public class MemcachedSessionService {

    static final String BANNER = "THIS IS THE clusterctl MSM TEST DOUBLE, NOT memcached-session-manager:"
        + " a lab-only stand-in (sticky mode, Java serialization), never for production";

    private static final Log LOG = LogFactory.getLog(MemcachedSessionService.class);
    private static final String JAVA_TRANSCODER = JavaSerializationTranscoderFactory.class.getName();

    // ---- configuration, defaults as in MSM 2.3.x ----
    private String memcachedNodes;
    private String failoverNodes;
    private String requestUriIgnorePattern;
    private String sessionAttributeFilter;
    private boolean sessionBackupAsync = true;
    private int sessionBackupTimeout = 100;
    private int backupThreadCount = Runtime.getRuntime().availableProcessors();
    private long operationTimeout = 1000;
    private String transcoderFactoryClass = JAVA_TRANSCODER;
    private String memcachedProtocol = "text";
    private String username;
    private String password;
    private String storageKeyPrefix = "webappVersion";
    private boolean enabled = true;
    private boolean sticky = true;
    private String lockingMode;

    // ---- runtime ----
    private final SessionManager manager;
    private MemcachedNodesManager nodes;
    private ExecutorService backupExecutor;
    private Pattern attributeFilter;
    private RequestTrackingContextValve valve;
    /**
     * Ids recently not found in memcached: MSM 2.x's _invalidSessionsCache,
     * an LRU of 2000 entries whose entries live 5 s. A miss (an async backup
     * not landed yet) therefore makes the next 5 s of lookups miss too, in
     * MSM as here.
     */
    private final Map<String, Long> missing = Collections.synchronizedMap(new LinkedHashMap<String, Long>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(final Map.Entry<String, Long> eldest) {
            return size() > 2000;
        }
    });

    MemcachedSessionService(final SessionManager manager) {
        this.manager = manager;
    }

    void startInternal() throws LifecycleException {
        LOG.warn(BANNER);
        if (!sticky) {
            throw new LifecycleException("sticky=\"false\" (non-sticky sessions) is not implemented by the"
                + " clusterctl MSM test double; use real memcached-session-manager or sticky=\"true\"");
        }
        if (!JAVA_TRANSCODER.equals(transcoderFactoryClass)) {
            LOG.warn("transcoderFactoryClass " + transcoderFactoryClass + " is ignored by the clusterctl MSM test"
                + " double: it always uses Java serialization");
        }
        if (lockingMode != null) {
            LOG.info("lockingMode " + lockingMode + " only matters for non-sticky sessions; ignored (as in MSM)");
        }
        final Context context = manager.getContext();
        final String webappVersion = context.getWebappVersion();
        final StorageKeyFormat keys = StorageKeyFormat.of(storageKeyPrefix, context.getParent().getName(),
            context.getName(), webappVersion);
        try {
            nodes = new MemcachedNodesManager(memcachedNodes, failoverNodes, keys, operationTimeout);
            nodes.connect("binary".equals(memcachedProtocol), username, password);
        } catch (final IllegalArgumentException | IOException e) {
            throw new LifecycleException("clusterctl MSM test double: " + e.getMessage(), e);
        }
        attributeFilter = sessionAttributeFilter == null || sessionAttributeFilter.isEmpty()
            ? null : Pattern.compile(sessionAttributeFilter);
        if (sessionBackupAsync) {
            final AtomicInteger n = new AtomicInteger();
            backupExecutor = Executors.newFixedThreadPool(Math.max(1, backupThreadCount), r -> {
                final Thread t = new Thread(r, "msm-standin-backup-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        valve = new RequestTrackingContextValve(this, requestUriIgnorePattern == null
            || requestUriIgnorePattern.isEmpty() ? null : Pattern.compile(requestUriIgnorePattern));
        context.getPipeline().addValve(valve);
        LOG.info("clusterctl MSM test double started: sticky, node ids " + nodes.getPrimaryNodeIds()
            + ", failover node ids " + nodes.getFailoverNodeIds() + ", storage key prefix '" + keys
            + "', backup " + (sessionBackupAsync ? "async" : "sync"));
    }

    void shutdown() {
        if (valve != null) {
            manager.getContext().getPipeline().removeValve(valve);
            valve = null;
        }
        if (backupExecutor != null) {
            backupExecutor.shutdown();
            try {
                backupExecutor.awaitTermination(operationTimeout, TimeUnit.MILLISECONDS);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            backupExecutor = null;
        }
        if (nodes != null) {
            nodes.shutdown();
            nodes = null;
        }
        missing.clear();
    }

    boolean isEnabled() {
        return enabled && nodes != null;
    }

    boolean isValidForMemcached(final String sessionId) {
        return nodes != null && nodes.isValidForMemcached(sessionId);
    }

    /** Adds "-nodeId" to the id Tomcat generated. */
    String newSessionId(final String tomcatId) {
        return isEnabled() ? nodes.createSessionId(tomcatId) : tomcatId;
    }

    /** Local session, else the one stored in memcached under id (Tomcat failover). */
    MemcachedBackupSession findSession(final String id) {
        final MemcachedBackupSession local = manager.getSessionInternal(id);
        if (local != null || id == null) {
            return local;
        }
        final MemcachedBackupSession loaded = loadFromMemcachedWithCheck(id);
        // isValid() may expire the session, as in MSM.
        if (loaded != null && loaded.isValid()) {
            final String jvmRoute = manager.getJvmRoute();
            final boolean idWillChange = jvmRoute != null
                && !jvmRoute.equals(nodes.getSessionIdFormat().extractJvmRoute(id));
            addValidLoadedSession(loaded, !idWillChange);
            return loaded;
        }
        return null;
    }

    /** A session of another Tomcat (other jvmRoute): take it over under our route. */
    String changeSessionIdOnTomcatFailover(final String requestedId) {
        final String jvmRoute = manager.getJvmRoute();
        if (jvmRoute == null || jvmRoute.equals(nodes.getSessionIdFormat().extractJvmRoute(requestedId))) {
            return null;
        }
        MemcachedBackupSession session = manager.getSessionInternal(requestedId);
        if (session == null) {
            session = loadFromMemcachedWithCheck(requestedId);
        }
        if (session == null || !session.isValid()) {
            return null;
        }
        final String origId = session.getIdInternal();
        final String newId = nodes.changeSessionIdForTomcatFailover(origId, jvmRoute);
        manager.removeLocal(origId);
        session.setIdInternal(newId);
        addValidLoadedSession(session, true);
        deleteFromMemcached(origId);
        session.setSessionIdChanged(true);
        LOG.info("Session " + origId + " taken over from another Tomcat as " + newId);
        return newId;
    }

    /** Our session on a memcached node that is down: move it to another node (lazily). */
    String changeSessionIdOnMemcachedFailover(final String requestedId) {
        final MemcachedBackupSession session = manager.getSessionInternal(requestedId);
        if (session == null || !session.isValid()) {
            return null;
        }
        final String oldId = session.getIdInternal();
        final String newId = nodes.getNewSessionIdIfNodeFromSessionIdUnavailable(oldId);
        if (newId == null) {
            return null;
        }
        manager.removeLocal(oldId);
        session.setIdInternal(newId);
        manager.add(session);
        session.setSessionIdChanged(true);
        LOG.info("Session " + oldId + " relocated to " + newId + " (memcached node unavailable)");
        return newId;
    }

    /** Writes the session if new, renamed or its attributes changed. */
    void backupSession(final MemcachedBackupSession session, final boolean idChanged) {
        if (!isEnabled() || !session.isValidInternal()) {
            return;
        }
        final byte[] attributes;
        try {
            attributes = TranscoderService.serializeAttributes(session, attributeFilter);
        } catch (final IOException e) {
            LOG.warn("Could not serialize session " + session.getIdInternal(), e);
            return;
        }
        final int hash = java.util.Arrays.hashCode(attributes);
        final boolean force = idChanged || session.isSessionIdChanged();
        if (!force && session.getLastBackupTime() > 0 && hash == session.getDataHashCode()) {
            return; // unchanged since the last write
        }
        final long now = System.currentTimeMillis();
        final String id = session.getIdInternal();
        final byte[] data = TranscoderService.serialize(session, attributes, now);
        final int expiration = expiration(session.getMaxInactiveInterval());
        final Runnable write = () -> {
            final long timeout = sessionBackupAsync ? operationTimeout : sessionBackupTimeout;
            try {
                if (Boolean.TRUE.equals(nodes.set(id, expiration, data).get(timeout, TimeUnit.MILLISECONDS))) {
                    session.setDataHashCode(hash);
                    session.setLastBackupTime(now);
                    session.setSessionIdChanged(false);
                    return;
                }
                LOG.warn("memcached refused session " + id);
            } catch (final Exception e) {
                LOG.warn("Could not store session " + id + " in memcached: " + e);
            }
            nodes.setNodeAvailable(nodes.getSessionIdFormat().extractMemcachedId(id), false);
        };
        if (sessionBackupAsync && backupExecutor != null) {
            backupExecutor.execute(write);
        } else {
            write.run();
        }
    }

    /** Memcached expiry for a session timeout (0 = never; > 30 days would be read as a date). */
    private static int expiration(final int maxInactiveInterval) {
        return maxInactiveInterval <= 0 || maxInactiveInterval > 30 * 24 * 3600 ? 0 : maxInactiveInterval;
    }

    void deleteFromMemcached(final String sessionId) {
        if (!isEnabled() || sessionId == null || !nodes.isValidForMemcached(sessionId)) {
            return;
        }
        try {
            nodes.delete(sessionId);
        } catch (final Exception e) {
            LOG.info("Could not delete session " + sessionId + " from memcached: " + e);
        }
    }

    private MemcachedBackupSession loadFromMemcachedWithCheck(final String id) {
        if (!isEnabled() || !nodes.canHitMemcached(id)) {
            return null;
        }
        final Long missedAt = missing.get(id);
        if (missedAt != null && System.currentTimeMillis() - missedAt < 5000) {
            return null;
        }
        final String nodeId = nodes.getSessionIdFormat().extractMemcachedId(id);
        try {
            final byte[] data = nodes.get(id);
            nodes.setNodeAvailable(nodeId, true);
            if (data == null) {
                missing.put(id, System.currentTimeMillis());
                return null;
            }
            final MemcachedBackupSession session = manager.newMemcachedBackupSession();
            final ClassLoader loader = manager.getContext().getLoader() != null
                ? manager.getContext().getLoader().getClassLoader() : null;
            session.setDataHashCode(TranscoderService.deserializeInto(data, session, loader));
            return session;
        } catch (final RuntimeException e) {
            nodes.setNodeAvailable(nodeId, false);
            LOG.warn("Could not load session " + id + " from memcached: " + e);
        } catch (final IOException e) {
            LOG.warn("Could not deserialize session " + id + ": " + e);
        }
        return null;
    }

    private void addValidLoadedSession(final MemcachedBackupSession session, final boolean activate) {
        // As MSM (and PersistentManagerBase): tell listeners, register, keep access counts right.
        if (session.isNew()) {
            session.tellNew();
        }
        manager.add(session);
        if (activate) {
            session.activate();
        }
        session.access();
        session.endAccess();
    }

    // ---- setters/getters behind the Manager attributes ----
    void setMemcachedNodes(final String v) { memcachedNodes = v; }
    String getMemcachedNodes() { return memcachedNodes; }
    void setFailoverNodes(final String v) { failoverNodes = v; }
    String getFailoverNodes() { return failoverNodes; }
    void setRequestUriIgnorePattern(final String v) { requestUriIgnorePattern = v; }
    String getRequestUriIgnorePattern() { return requestUriIgnorePattern; }
    void setSessionAttributeFilter(final String v) { sessionAttributeFilter = v; }
    String getSessionAttributeFilter() { return sessionAttributeFilter; }
    void setSessionBackupAsync(final boolean v) { sessionBackupAsync = v; }
    boolean isSessionBackupAsync() { return sessionBackupAsync; }
    void setSessionBackupTimeout(final int v) { sessionBackupTimeout = v; }
    int getSessionBackupTimeout() { return sessionBackupTimeout; }
    void setBackupThreadCount(final int v) { backupThreadCount = v; }
    int getBackupThreadCount() { return backupThreadCount; }
    void setOperationTimeout(final long v) { operationTimeout = v; }
    long getOperationTimeout() { return operationTimeout; }
    void setTranscoderFactoryClass(final String v) { transcoderFactoryClass = v; }
    String getTranscoderFactoryClass() { return transcoderFactoryClass; }
    void setMemcachedProtocol(final String v) { memcachedProtocol = v; }
    String getMemcachedProtocol() { return memcachedProtocol; }
    void setUsername(final String v) { username = v; }
    void setPassword(final String v) { password = v; }
    void setStorageKeyPrefix(final String v) { storageKeyPrefix = v; }
    String getStorageKeyPrefix() { return storageKeyPrefix; }
    void setEnabled(final boolean v) { enabled = v; }
    boolean getEnabled() { return enabled; }
    void setSticky(final boolean v) { sticky = v; }
    boolean isSticky() { return sticky; }
    void setLockingMode(final String v) { lockingMode = v; }
    String getLockingMode() { return lockingMode; }
}
