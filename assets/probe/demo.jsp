<%--
  managed by clusterctl — changes will be overwritten

  The seed's test page, for a browser: which Tomcat answered, the session id
  (MSM's <hex>-<memcached node>.<jvmRoute>) and the time. Reload it, stop a
  Tomcat or a memcached, and watch the id's suffixes change while the session
  (its creation time) stays.
--%><%@ page contentType="text/html; charset=UTF-8" session="true" import="java.util.Date" %>
<%
    String hostname;
    try {
        hostname = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
        hostname = "unknown";
    }
    response.setHeader("Cache-Control", "no-store");
%>
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>tomcat test</title>
</head>
<body>
<h1>On <%= hostname %></h1>
<div><%= request.getLocalAddr() + ":" + request.getLocalPort() %></div>
<div>SessionID = <span style="color:blue"><%= session.getId() %></span></div>
<div>Session created <%= new Date(session.getCreationTime()) %><%= session.isNew() ? " (new)" : "" %></div>
<div><%= new Date() %></div>
</body>
</html>
