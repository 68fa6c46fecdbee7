package de.javakaffee.web.msm;

import org.apache.catalina.Context;
import org.apache.catalina.Session;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * What the Tomcat-independent core needs from the Tomcat-specific Manager
 * (the same split real MSM makes between its core and -tcN jars).
 */
interface SessionManager {

    Context getContext();

    /** The Engine's jvmRoute, or null. */
    String getJvmRoute();

    MemcachedBackupSession getSessionInternal(String id);

    /** Puts the session into the local map under its current id. */
    void add(Session session);

    /** Drops an id from the local map without touching memcached. */
    void removeLocal(String id);

    MemcachedBackupSession newMemcachedBackupSession();
}
