package de.javakaffee.web.msm;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import net.spy.memcached.CachedData;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.transcoders.Transcoder;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * Parses memcachedNodes/failoverNodes like MSM 2.3.x, picks node ids for
 * new and relocated sessions with MSM's rules, and talks to memcached.
 * Real MSM uses one spymemcached client with a node locator keyed on the id
 * suffix; the stand-in uses one client per node, which routes the same way
 * (a key always goes to the node named in it) with far less code.
 */
final class MemcachedNodesManager {

    private static final Log LOG = LogFactory.getLog(MemcachedNodesManager.class);

    // Same grammar as MSM: id:host:port separated by whitespace or comma.
    private static final String NODE = "([\\w]+):([^:]+):([\\d]+)";
    private static final Pattern NODE_PATTERN = Pattern.compile(NODE);
    private static final Pattern NODES_PATTERN = Pattern.compile(NODE + "(?:(?:\\s+|,)" + NODE + ")*");

    /** Raw bytes, flags 0 -- how MSM stores session data. */
    static final Transcoder<byte[]> BYTES = new Transcoder<byte[]>() {
        @Override
        public boolean asyncDecode(final CachedData d) {
            return false;
        }

        @Override
        public CachedData encode(final byte[] o) {
            return new CachedData(0, o, getMaxSize());
        }

        @Override
        public byte[] decode(final CachedData d) {
            return d.getData();
        }

        @Override
        public int getMaxSize() {
            return CachedData.MAX_SIZE;
        }
    };

    private final List<String> primaryNodeIds = new ArrayList<>();
    private final List<String> failoverNodeIds = new ArrayList<>();
    private final Map<String, InetSocketAddress> addresses = new LinkedHashMap<>();
    private final Map<String, MemcachedClient> clients = new LinkedHashMap<>();
    private final SessionIdFormat format = new SessionIdFormat();
    private final StorageKeyFormat keys;
    private final NodeAvailabilityCache availability;
    private final long operationTimeout;
    private final Random random = new Random();

    MemcachedNodesManager(final String memcachedNodes, final String failoverNodes, final StorageKeyFormat keys,
            final long operationTimeout) {
        if (memcachedNodes == null || !NODES_PATTERN.matcher(memcachedNodes.trim()).matches()) {
            // Real MSM also accepts a single "host:port" without id (ids are then not
            // encoded in the session id); the lab never uses that, so the stand-in refuses.
            throw new IllegalArgumentException("memcachedNodes '" + memcachedNodes
                + "' must look like n1:host:port[,n2:host:port...] (the clusterctl MSM test double"
                + " supports only node definitions with ids)");
        }
        final Matcher m = NODE_PATTERN.matcher(memcachedNodes);
        while (m.find()) {
            addresses.put(m.group(1), new InetSocketAddress(m.group(2), Integer.parseInt(m.group(3))));
        }
        if (failoverNodes != null && !failoverNodes.trim().isEmpty()) {
            for (final String id : failoverNodes.trim().split("[\\s,]+")) {
                if (!addresses.containsKey(id)) {
                    throw new IllegalArgumentException("Invalid failover node id " + id
                        + ": not existing in memcachedNodes '" + addresses.keySet() + "'.");
                }
                failoverNodeIds.add(id);
            }
        }
        if (addresses.size() == 1 && !failoverNodeIds.isEmpty()) {
            throw new IllegalArgumentException(
                "For a single memcached node there should/must no failoverNodes be specified.");
        }
        for (final String id : addresses.keySet()) {
            if (!failoverNodeIds.contains(id)) {
                primaryNodeIds.add(id);
            }
        }
        if (primaryNodeIds.isEmpty()) {
            throw new IllegalArgumentException("All nodes are also configured as failover nodes,"
                + " this is a configuration failure.");
        }
        this.keys = keys;
        this.operationTimeout = operationTimeout;
        final long ttl = Long.getLong("msm.nodeAvailabilityCacheTTL", 1000L);
        // Probe like MSM: "get ping-<nodeId>" (through the storage key format);
        // any answer, even a miss, means the node is up.
        this.availability = new NodeAvailabilityCache(ttl, id -> {
            try {
                clients.get(id).get(keys.format(format.createSessionId("ping", id)), BYTES);
                return true;
            } catch (final RuntimeException e) {
                return false;
            }
        });
    }

    void connect(final boolean binary, final String username, final String password) throws IOException {
        for (final Map.Entry<String, InetSocketAddress> e : addresses.entrySet()) {
            final ConnectionFactoryBuilder b = new ConnectionFactoryBuilder()
                .setProtocol(binary ? ConnectionFactoryBuilder.Protocol.BINARY : ConnectionFactoryBuilder.Protocol.TEXT)
                .setOpTimeout(operationTimeout)
                // Cancel: requests to a dead node fail at once instead of queueing
                // until the op timeout, so the availability probe is quick.
                .setFailureMode(FailureMode.Cancel)
                .setDaemon(true);
            if (username != null && !username.isEmpty()) {
                b.setAuthDescriptor(AuthDescriptor.typical(username, password));
            }
            clients.put(e.getKey(), new MemcachedClient(b.build(), Collections.singletonList(e.getValue())));
        }
        // Connections open asynchronously; wait briefly so a node that is up is not
        // probed as "down" by the very first request (and sessions land on n2, not n1).
        final long deadline = System.currentTimeMillis() + Math.max(operationTimeout, 1000);
        for (final MemcachedClient c : clients.values()) {
            while (c.getAvailableServers().isEmpty() && System.currentTimeMillis() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (final InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    void shutdown() {
        for (final MemcachedClient c : clients.values()) {
            c.shutdown(1, TimeUnit.SECONDS);
        }
        clients.clear();
    }

    SessionIdFormat getSessionIdFormat() {
        return format;
    }

    List<String> getPrimaryNodeIds() {
        return primaryNodeIds;
    }

    List<String> getFailoverNodeIds() {
        return failoverNodeIds;
    }

    StorageKeyFormat getStorageKeyFormat() {
        return keys;
    }

    boolean isNodeAvailable(final String nodeId) {
        return clients.containsKey(nodeId) && availability.isNodeAvailable(nodeId);
    }

    void setNodeAvailable(final String nodeId, final boolean available) {
        if (nodeId != null && clients.containsKey(nodeId)) {
            availability.setNodeAvailable(nodeId, available);
        }
    }

    /** A session id whose node part is known to this manager. */
    boolean isValidForMemcached(final String sessionId) {
        final String nodeId = format.extractMemcachedId(sessionId);
        return nodeId != null && clients.containsKey(nodeId);
    }

    boolean canHitMemcached(final String sessionId) {
        return isValidForMemcached(sessionId) && isNodeAvailable(format.extractMemcachedId(sessionId));
    }

    /** New session: random primary node, else (MSM's getAvailableNodeId) another one. */
    String createSessionId(final String tomcatId) {
        final String nodeId = primaryNodeIds.get(random.nextInt(primaryNodeIds.size()));
        final String chosen = isNodeAvailable(nodeId) ? nodeId : getAvailableNodeId(nodeId);
        return format.createSessionId(tomcatId, chosen != null ? chosen : nodeId);
    }

    /** Random available primary node other than nodeId, else a failover node, else null. */
    String getAvailableNodeId(final String nodeId) {
        String result = randomAvailable(nodeId, primaryNodeIds);
        if (result == null) {
            result = randomAvailable(nodeId, failoverNodeIds);
        }
        return result;
    }

    private String randomAvailable(final String exclude, final List<String> ids) {
        final List<String> others = new ArrayList<>(ids);
        others.remove(exclude);
        while (!others.isEmpty()) {
            final String candidate = others.get(random.nextInt(others.size()));
            if (isNodeAvailable(candidate)) {
                return candidate;
            }
            others.remove(candidate);
        }
        return null;
    }

    /** Memcached failover: new id if the session's node is down and another node is up. */
    String getNewSessionIdIfNodeFromSessionIdUnavailable(final String sessionId) {
        final String nodeId = format.extractMemcachedId(sessionId);
        if (nodeId == null) {
            final String chosen = createSessionId(sessionId);
            return chosen.equals(sessionId) ? null : chosen;
        }
        if (isNodeAvailable(nodeId)) {
            return null;
        }
        final String newNodeId = getAvailableNodeId(nodeId);
        if (newNodeId == null) {
            LOG.warn("The node " + nodeId + " is not available and there's no node for relocation left.");
            return null;
        }
        return format.createNewSessionId(sessionId, newNodeId);
    }

    /** Tomcat failover: own jvmRoute, and leave a node that is one of OUR failover nodes. */
    String changeSessionIdForTomcatFailover(final String sessionId, final String jvmRoute) {
        final String newId = jvmRoute != null && !jvmRoute.trim().isEmpty()
            ? format.changeJvmRoute(sessionId, jvmRoute)
            : format.stripJvmRoute(sessionId);
        final String nodeId = format.extractMemcachedId(newId);
        if (failoverNodeIds.contains(nodeId)) {
            final String newNodeId = getAvailableNodeId(nodeId);
            if (newNodeId != null) {
                return format.createNewSessionId(newId, newNodeId);
            }
        }
        return newId;
    }

    private MemcachedClient clientFor(final String sessionId) {
        final MemcachedClient c = clients.get(format.extractMemcachedId(sessionId));
        if (c == null) {
            throw new IllegalArgumentException("No memcached node for session id " + sessionId);
        }
        return c;
    }

    byte[] get(final String sessionId) {
        return clientFor(sessionId).get(keys.format(sessionId), BYTES);
    }

    /** Starts a set; the caller decides how long to wait (sync vs async backup). */
    java.util.concurrent.Future<Boolean> set(final String sessionId, final int expiration, final byte[] data) {
        return clientFor(sessionId).set(keys.format(sessionId), expiration, data, BYTES);
    }

    void delete(final String sessionId) throws Exception {
        clientFor(sessionId).delete(keys.format(sessionId)).get(operationTimeout, TimeUnit.MILLISECONDS);
    }
}
