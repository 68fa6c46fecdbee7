package de.javakaffee.web.msm;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * Remembers for ttl ms whether a memcached node answered; an expired or
 * missing entry triggers a fresh probe. Mirrors MSM's NodeAvailabilityCache
 * (TTL from system property msm.nodeAvailabilityCacheTTL, default 1000 ms),
 * which is why a dead node is only noticed up to ~1 s after it died.
 */
final class NodeAvailabilityCache {

    private static final class Item {
        final boolean available;
        final long at;

        Item(final boolean available, final long at) {
            this.available = available;
            this.at = at;
        }
    }

    private final long ttl;
    private final Predicate<String> probe;
    private final ConcurrentHashMap<String, Item> map = new ConcurrentHashMap<>();

    NodeAvailabilityCache(final long ttl, final Predicate<String> probe) {
        this.ttl = ttl;
        this.probe = probe;
    }

    boolean isNodeAvailable(final String nodeId) {
        final Item item = map.get(nodeId);
        if (item != null && (ttl < 0 || System.currentTimeMillis() - item.at <= ttl)) {
            return item.available;
        }
        final boolean result = probe.test(nodeId);
        map.put(nodeId, new Item(result, System.currentTimeMillis()));
        return result;
    }

    void setNodeAvailable(final String nodeId, final boolean available) {
        final Item item = map.get(nodeId);
        if (item == null || item.available != available) {
            map.put(nodeId, new Item(available, System.currentTimeMillis()));
        }
    }
}
