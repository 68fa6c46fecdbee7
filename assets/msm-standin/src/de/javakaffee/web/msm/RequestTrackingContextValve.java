package de.javakaffee.web.msm;

import java.io.IOException;
import java.util.regex.Pattern;

import javax.servlet.ServletException;

import org.apache.catalina.Session;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * Per request, like MSM's tracking valves: before the application runs, move
 * a requested session that belongs to another Tomcat (jvmRoute) or to a dead
 * memcached node to its new id (Set-Cookie is re-sent by
 * Request.changeSessionId); after it ran, write the session to memcached if
 * it is new, changed or renamed. Requests matching requestUriIgnorePattern
 * are left alone entirely, as in MSM.
 */
public class RequestTrackingContextValve extends ValveBase {

    private final MemcachedSessionService service;
    private final Pattern ignore;

    RequestTrackingContextValve(final MemcachedSessionService service, final Pattern ignore) {
        super(true); // async supported, as MSM's valves
        this.service = service;
        this.ignore = ignore;
    }

    @Override
    public void invoke(final Request request, final Response response) throws IOException, ServletException {
        if (!service.isEnabled() || ignore != null && ignore.matcher(request.getRequestURI()).matches()) {
            getNext().invoke(request, response);
            return;
        }
        boolean idChanged = false;
        final String requested = request.getRequestedSessionId();
        if (requested != null) {
            String newId = service.changeSessionIdOnTomcatFailover(requested);
            if (newId == null) {
                newId = service.changeSessionIdOnMemcachedFailover(requested);
            }
            if (newId != null) {
                request.changeSessionId(newId);
                idChanged = true;
            }
        }
        try {
            getNext().invoke(request, response);
        } finally {
            final Session session = request.getSessionInternal(false);
            if (session instanceof MemcachedBackupSession) {
                service.backupSession((MemcachedBackupSession) session, idChanged);
            }
        }
    }
}
