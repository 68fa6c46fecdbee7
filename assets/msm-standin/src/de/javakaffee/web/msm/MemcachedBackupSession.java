package de.javakaffee.web.msm;

import java.util.Map;

import org.apache.catalina.Manager;
import org.apache.catalina.session.StandardSession;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * A StandardSession that remembers what was last written to memcached, so
 * unchanged sessions are not rewritten, and exposes the protected fields the
 * transcoder needs.
 */
public class MemcachedBackupSession extends StandardSession {

    private static final long serialVersionUID = 1L;

    private transient volatile long lastBackupTime;
    private transient volatile int dataHashCode;
    private transient volatile boolean sessionIdChanged;

    public MemcachedBackupSession(final Manager manager) {
        super(manager);
    }

    /** Changes only the id field; the caller keeps the manager's map in step. */
    void setIdInternal(final String newId) {
        this.id = newId;
    }

    boolean isNewInternal() {
        return isNew;
    }

    /** Widened from protected so the transcoder can read it. */
    @Override
    public boolean isValidInternal() {
        return super.isValidInternal();
    }

    Map<String, Object> getAttributesInternal() {
        return attributes;
    }

    void restoreFields(final long creation, final long lastAccessed, final int maxInactive, final boolean isNewValue,
            final boolean valid, final long thisAccessed) {
        this.creationTime = creation;
        this.lastAccessedTime = lastAccessed;
        this.maxInactiveInterval = maxInactive;
        this.isNew = isNewValue;
        this.isValid = valid;
        this.thisAccessedTime = thisAccessed;
    }

    long getLastBackupTime() {
        return lastBackupTime;
    }

    void setLastBackupTime(final long t) {
        lastBackupTime = t;
    }

    int getDataHashCode() {
        return dataHashCode;
    }

    void setDataHashCode(final int h) {
        dataHashCode = h;
    }

    boolean isSessionIdChanged() {
        return sessionIdChanged;
    }

    void setSessionIdChanged(final boolean changed) {
        sessionIdChanged = changed;
    }
}
