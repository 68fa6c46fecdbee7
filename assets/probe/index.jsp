<%--
  managed by clusterctl — changes will be overwritten

  clusterctl's probe: each request adds 1 to the session's "counter" and
  answers one line of JSON, e.g.
    {"host":"t58","route":"t58","hostname":"t58.shone.cn","session":"6A1F...-n2.t58","counter":3,"new":false}
  route    the jvmRoute suffix MSM puts after the last '.' of the session id
           ("" without a jvmRoute); it names the Tomcat that owns the session
  hostname this machine's host name
  host     route, or hostname when there is no route
  new      whether this request created the session
  A failover keeps the counter (MSM loads the session from memcached) while
  route and the node part of the id change. Ids and host names hold only
  [A-Za-z0-9._-]; js() escapes anyway, so the output is always valid JSON.
--%><%@ page contentType="application/json; charset=UTF-8" session="true" trimDirectiveWhitespaces="true"
%><%!
    static String js(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
%><%
    boolean isNew = session.isNew();
    Integer old = (Integer) session.getAttribute("counter");
    int counter = old == null ? 1 : old + 1;
    // setAttribute marks the session changed, so MSM writes it to memcached
    // after this request.
    session.setAttribute("counter", counter);

    String id = session.getId();
    int dot = id.lastIndexOf('.');
    String route = dot >= 0 ? id.substring(dot + 1) : "";
    String hostname;
    try {
        hostname = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
        hostname = "unknown";
    }
    String host = route.isEmpty() ? hostname : route;

    response.setHeader("Cache-Control", "no-store");
    out.print("{\"host\":" + js(host) + ",\"route\":" + js(route) + ",\"hostname\":" + js(hostname)
            + ",\"session\":" + js(id) + ",\"counter\":" + counter + ",\"new\":" + isNew + "}\n");
%>
